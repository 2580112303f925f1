"""The portal's REST API under ``/api``, one module per area; documented at ``/docs``."""

from __future__ import annotations
