"""SignatureVerifier: is this webhook really from the system it claims, and is it fresh?

A pushed change hint is only accepted when it carries either an HMAC-SHA256 signature of
``timestamp.body`` or of the body alone (``X-Syncloom-Signature: sha256=<hex>``), or a shared
secret (``X-Syncloom-Secret``), compared in constant time, and when its timestamp
(``X-Syncloom-Timestamp``, unix seconds) lies inside the replay window. The digest of every
accepted hint is kept by the intake so the same delivery replayed inside the window is refused.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

__all__ = ["SignatureVerifier", "WebhookRejected", "sign"]

SIGNATURE_HEADER = "x-syncloom-signature"
SECRET_HEADER = "x-syncloom-secret"
TIMESTAMP_HEADER = "x-syncloom-timestamp"


class WebhookRejected(Exception):
    """A hint that must not be stored: ``status`` is the HTTP answer, ``reason`` says why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value a sender computes for ``body`` at ``timestamp``."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _body_only(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SignatureVerifier:
    """Checks one Connection's webhook deliveries.

    Attributes:
        secret: the shared secret configured on both sides (never logged).
        window_s: how far a delivery's timestamp may lie from now, either way.
    """

    secret: str
    window_s: float = 300.0

    def __repr__(self) -> str:
        return f"SignatureVerifier(secret=***, window_s={self.window_s})"

    def verify(self, headers: Mapping[str, str], body: bytes, now: datetime) -> str:
        """Accept or refuse one delivery.

        Args:
            headers: request headers, names in lower case.
            body: the raw request body.
            now: the current instant from the injected clock.

        Returns:
            A digest naming this delivery, for replay detection.

        Raises:
            WebhookRejected: 401 for a missing or wrong signature, 400 for a bad timestamp,
                408 when the timestamp is outside the replay window.
        """
        stamp = headers.get(TIMESTAMP_HEADER, "")
        if not stamp.isdigit():
            raise WebhookRejected(400, f"missing or malformed {TIMESTAMP_HEADER} header")
        if abs(now.timestamp() - int(stamp)) > self.window_s:
            raise WebhookRejected(408, "timestamp outside the replay window")
        signature = headers.get(SIGNATURE_HEADER)
        if signature is not None:
            expected = (sign(self.secret, body, int(stamp)), _body_only(self.secret, body))
            if not any(hmac.compare_digest(signature, e) for e in expected):
                raise WebhookRejected(401, "signature does not match")
        elif SECRET_HEADER in headers:
            if not hmac.compare_digest(headers[SECRET_HEADER], self.secret):
                raise WebhookRejected(401, "shared secret does not match")
        else:
            raise WebhookRejected(401, "no signature or shared secret")
        return hashlib.sha256(stamp.encode() + b"." + body).hexdigest()
