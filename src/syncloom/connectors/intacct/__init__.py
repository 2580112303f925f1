from __future__ import annotations

from syncloom.connectors.intacct.auth import IntacctCredentials
from syncloom.connectors.intacct.connector import IntacctConnector

__all__ = ["IntacctConnector", "IntacctCredentials"]
