"""syncloom: keeps business records in step between a CRM and ERPs."""

from __future__ import annotations

__version__ = "0.1.0"
