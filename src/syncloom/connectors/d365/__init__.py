"""Dynamics 365 Finance & Operations: OData v4 with Entra ID tokens through msal."""

from __future__ import annotations

from syncloom.connectors.d365.connector import D365Connector
from syncloom.connectors.d365.events import EventHint, parse_business_event, verify_signature

__all__ = ["D365Connector", "EventHint", "parse_business_event", "verify_signature"]
