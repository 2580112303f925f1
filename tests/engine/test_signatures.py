from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syncloom.engine.signatures import SignatureVerifier, WebhookRejected, sign

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
STAMP = int(NOW.timestamp())
BODY = b'{"entity":"Account","id":"x"}'


def headers(**extra: str) -> dict[str, str]:
    return {"x-syncloom-timestamp": str(STAMP), **extra}


def test_valid_signature_is_accepted_and_named_by_digest():
    verifier = SignatureVerifier("s3cret")
    digest = verifier.verify(
        headers(**{"x-syncloom-signature": sign("s3cret", BODY, STAMP)}), BODY, NOW
    )
    again = verifier.verify(
        headers(**{"x-syncloom-signature": sign("s3cret", BODY, STAMP)}), BODY, NOW
    )
    assert digest == again
    assert len(digest) == 64


def test_shared_secret_header_is_accepted():
    assert SignatureVerifier("s3cret").verify(headers(**{"x-syncloom-secret": "s3cret"}), BODY, NOW)


@pytest.mark.parametrize(
    ("hdrs", "status"),
    [
        ({"x-syncloom-timestamp": str(STAMP)}, 401),
        (headers(**{"x-syncloom-signature": sign("wrong", BODY, STAMP)}), 401),
        (headers(**{"x-syncloom-secret": "s3cret!"}), 401),
        ({"x-syncloom-signature": sign("s3cret", BODY, STAMP)}, 400),
        ({"x-syncloom-timestamp": "yesterday", "x-syncloom-secret": "s3cret"}, 400),
        ({"x-syncloom-timestamp": str(STAMP - 301), "x-syncloom-secret": "s3cret"}, 408),
    ],
)
def test_bad_deliveries_are_refused(hdrs, status):
    with pytest.raises(WebhookRejected) as caught:
        SignatureVerifier("s3cret").verify(hdrs, BODY, NOW)
    assert caught.value.status == status


def test_tampered_body_fails_and_secret_stays_out_of_repr():
    verifier = SignatureVerifier("s3cret")
    signed = headers(**{"x-syncloom-signature": sign("s3cret", BODY, STAMP)})
    with pytest.raises(WebhookRejected):
        verifier.verify(signed, BODY + b" ", NOW)
    assert "s3cret" not in repr(verifier)
