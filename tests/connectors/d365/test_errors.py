from __future__ import annotations

import json

import httpx
import pytest

from syncloom.connectors.d365.errors import Answer, translate
from syncloom.errors import (
    AlreadyExistsError,
    AuthError,
    NotFoundError,
    StaleVersionError,
    ThrottledError,
    TransientError,
    ValidationError,
)

WRITE = "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException"


def _answer(
    status: int, message: str = "An error has occurred.", inner: str | None = None, **headers: str
) -> Answer:
    error: dict[str, object] = {"code": "", "message": message}
    if inner is not None:
        error["innererror"] = {"message": inner, "type": WRITE, "stacktrace": "..."}
    return Answer(status, headers, json.dumps({"error": error}).encode())


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (_answer(429, "Number of requests exceeded", **{"Retry-After": "12"}), ThrottledError),
        (_answer(500), TransientError),
        (_answer(503, "The service is unavailable."), TransientError),
        (
            _answer(500, inner="Cannot create a record. The record already exists."),
            AlreadyExistsError,
        ),
        (
            _answer(
                500, inner="validateField failed on field 'CustCustomerV3Entity.CustomerGroupId'."
            ),
            ValidationError,
        ),
        (_answer(400, "The property 'Foo' does not exist on type 'X'."), ValidationError),
        (_answer(404, "Resource not found for the segment 'X'."), NotFoundError),
        (_answer(412, "changed"), StaleVersionError),
        (Answer(401, {}, b'{"Message":"Authentication failed."}'), AuthError),
    ],
)
def test_answers_map_to_the_error_tree(answer, expected):
    error = translate(answer=answer, record_key="d365:CustomersV3:usmf/C1")
    assert type(error) is expected
    assert error.system == "d365"
    assert error.status == answer.status
    assert error.vendor_message
    assert error.record_key == "d365:CustomersV3:usmf/C1"


def test_write_exception_keeps_type_infolog_and_field():
    error = translate(
        answer=_answer(
            500,
            inner="Infolog: Warning: validateField failed on field 'T.CustomerGroupId'.",
        )
    )
    assert isinstance(error, ValidationError)
    assert error.vendor_code == WRITE
    assert error.field == "CustomerGroupId"
    assert "Infolog" in error.vendor_message


def test_retry_after_and_transport_failures():
    throttled = translate(answer=_answer(429, **{"Retry-After": "7"}))
    assert isinstance(throttled, ThrottledError)
    assert throttled.retry_after_s == 7
    reset = translate(exc=httpx.RemoteProtocolError("peer closed"))
    assert type(reset) is TransientError
    garbage = translate(answer=Answer(502, {}, b"<html>bad gateway</html>"))
    assert type(garbage) is TransientError
    assert "bad gateway" in garbage.vendor_message
