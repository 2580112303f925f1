"""The portal's server-rendered pages, one module per area."""

from __future__ import annotations
