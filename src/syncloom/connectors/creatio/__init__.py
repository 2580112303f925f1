"""Creatio CRM connector: OData 4 with forms or OAuth 2.0 authentication."""

from __future__ import annotations

from syncloom.connectors.creatio.connector import CreatioConnector

__all__ = ["CreatioConnector"]
