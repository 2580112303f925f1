"""CookieSigner: tamper-proof, expiring cookie values (the session and flash messages).

The value is ``base64(json) . base64(hmac-sha256)``; a cookie altered by one byte, signed with
another key or past its expiry reads as absent. The key is derived from the master key, so
every web process of one installation accepts the same sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

__all__ = ["CookieSigner", "derive_key"]


def derive_key(master_secret: bytes, purpose: str) -> bytes:
    """A key for one purpose, derived from the master key (which is never used directly)."""
    return hmac.new(master_secret, f"syncloom portal {purpose}".encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CookieSigner:
    """Signs and checks small JSON payloads carried in cookies."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "CookieSigner(key=<hidden>)"

    def sign(self, payload: dict[str, Any], *, expires_at: datetime) -> str:
        """The cookie value for ``payload``, valid until ``expires_at``."""
        body = _b64(json.dumps({**payload, "exp": int(expires_at.timestamp())}).encode())
        return f"{body}.{self._mac(body)}"

    def read(self, value: str | None, *, now: datetime) -> dict[str, Any] | None:
        """The payload of a valid, unexpired cookie value, or ``None``."""
        if not value or value.count(".") != 1:
            return None
        body, mac = value.split(".")
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            payload = json.loads(_unb64(body))
        except ValueError:
            return None
        if not isinstance(payload, dict) or payload.get("exp", 0) <= now.timestamp():
            return None
        return payload

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())
