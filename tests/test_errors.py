from __future__ import annotations

import pytest

from syncloom import errors
from syncloom.errors import (
    AlreadyExistsError,
    AuthError,
    PermanentError,
    RemoteError,
    SyncError,
    ThrottledError,
    TransientError,
    ValidationError,
)


def test_tree_shape_drives_retry_decisions():
    assert issubclass(ThrottledError, TransientError)
    assert issubclass(TransientError, RemoteError)
    assert issubclass(AuthError, PermanentError)
    assert not issubclass(PermanentError, TransientError)
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), SyncError)


def test_errors_carry_their_evidence():
    exc = ThrottledError(
        "slow down",
        retry_after_s=12.5,
        system="d365",
        status=429,
        vendor_code="429",
        record_key="d365:CustomersV3:usmf/C1",
    )
    assert exc.retry_after_s == 12.5
    assert exc.system == "d365"
    assert exc.vendor_message == "slow down"
    assert "d365:CustomersV3:usmf/C1" in str(exc)
    field_error = ValidationError("Name is required", field="Name", vendor_code="BL01")
    assert field_error.field == "Name"
    assert AlreadyExistsError("dup", key="C1").key == "C1"


def test_exported_members_are_sorted_and_complete():
    public = sorted(
        n
        for n, v in vars(errors).items()
        if isinstance(v, type) and issubclass(v, Exception) and v.__module__ == errors.__name__
    )
    assert errors.__all__ == public


@pytest.mark.parametrize("cls", [TransientError, PermanentError])
def test_vendor_message_defaults_to_message(cls):
    assert cls("boom").vendor_message == "boom"
