from __future__ import annotations

import httpx
import pytest

from syncloom.connectors.creatio.errors import SubReply, translate, vendor_text
from syncloom.errors import (
    AlreadyExistsError,
    AuthError,
    NotFoundError,
    PermanentError,
    ThrottledError,
    TransientError,
    ValidationError,
)


def envelope(message, inner="", internal=None):
    body = {
        "error": {
            "code": "",
            "message": message,
            "innererror": {"message": inner, "type": "", "stacktrace": ""},
        }
    }
    if internal is not None:
        body["error"]["innererror"]["internalexception"] = {"message": internal}
    return body


def test_innermost_message_wins():
    assert vendor_text(envelope("outer", "inner", "root cause")) == "root cause"
    assert vendor_text(envelope("outer", "inner")) == "inner"
    assert vendor_text(envelope("outer")) == "outer"
    assert vendor_text({"Message": "routing", "MessageDetail": "x"}) == "routing"
    assert vendor_text({"error": "invalid_client"}) == "invalid_client"


@pytest.mark.parametrize(
    ("status", "body", "kind", "field"),
    [
        (
            500,
            envelope(
                "An error has occurred.",
                '23505: duplicate key value violates unique constraint "PKAccountId"',
            ),
            AlreadyExistsError,
            None,
        ),
        (
            500,
            envelope(
                "An error has occurred.",
                '23503: insert or update on table "Contact" '
                'violates foreign key constraint "FKContactAccount"',
                None,
            ),
            ValidationError,
            None,
        ),
        (
            500,
            envelope(
                "An error has occurred.",
                'Column "Name" of object "Account" is required and must be filled in.',
            ),
            ValidationError,
            "Name",
        ),
        (500, envelope("An error has occurred."), TransientError, None),
        (500, envelope("An error has occurred.", "Something else broke"), PermanentError, None),
        (503, "<html>Service Unavailable</html>", TransientError, None),
        (
            400,
            envelope(
                "The query specified in the URI is not valid. Could not find a property "
                "named 'Foo' on type 'X'."
            ),
            ValidationError,
            "Foo",
        ),
        (404, None, NotFoundError, None),
        (401, None, AuthError, None),
        (302, None, AuthError, None),
    ],
)
def test_status_and_text_choose_the_class(status, body, kind, field):
    error = translate(SubReply(status, body, {}), record_key="creatio:Account:1")
    assert type(error) is kind
    assert error.system == "creatio"
    assert error.status == status
    assert error.record_key == "creatio:Account:1"
    if field:
        assert error.field == field


def test_duplicate_key_keeps_the_database_code():
    body = envelope("An error has occurred.", "23505: duplicate key value violates unique")
    error = translate(SubReply(500, body, {}))
    assert error.vendor_code == "23505"
    assert error.vendor_message.startswith("23505: duplicate key")


def test_throttle_carries_retry_after():
    response = httpx.Response(429, headers={"Retry-After": "7"}, content=b"")
    error = translate(response)
    assert isinstance(error, ThrottledError)
    assert error.retry_after_s == 7.0


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("cut")],
)
def test_transport_failures_are_transient(failure):
    error = translate(failure)
    assert isinstance(error, TransientError)
    assert not isinstance(error, ThrottledError)
