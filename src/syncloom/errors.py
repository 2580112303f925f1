"""The one exception tree of syncloom.

Every failure a caller can act on is one of these classes, so that retry decisions are made
by class and never by message text::

    SyncError
    ├── ConfigError            bad settings, Solution or flow document; never retried
    │   └── VaultError         a credential cannot be decrypted (wrong key, tampered, moved)
    ├── MappingError           a record cannot be translated; dead-lettered at once
    │   └── FieldValueError    a mapped value the target's field would refuse (checked first)
    ├── ConflictError          both sides changed and the policy is ManualReview
    └── RemoteError            the external system said no (carries its own error text)
        ├── TransientError     5xx, timeouts, lock contention: retried with backoff
        │   ├── ThrottledError 429 or vendor throttle: carries retry_after_s, feeds the Governor
        │   └── StaleVersionError  the record changed under us (ETag mismatch): re-read, retry
        └── PermanentError     validation, missing reference, permission: dead-lettered
            ├── AuthError      the Connection is paused until someone fixes its credentials
            ├── NotFoundError  the record or entity does not exist
            ├── AlreadyExistsError  a create hit a key that is taken (the idempotent writer's cue)
            └── ValidationError     the system rejected the values; names the field when it can

Connectors translate transport errors and vendor fault payloads into this tree at their edge,
in one function per connector. An exception carries its evidence (``record_key``,
``vendor_code``, ``retry_after_s``) and never a secret.
"""

from __future__ import annotations

__all__ = [
    "AlreadyExistsError",
    "AuthError",
    "ConfigError",
    "ConflictError",
    "FieldValueError",
    "MappingError",
    "NotFoundError",
    "PermanentError",
    "RemoteError",
    "StaleVersionError",
    "SyncError",
    "ThrottledError",
    "TransientError",
    "ValidationError",
    "VaultError",
]


class SyncError(Exception):
    """Root of every error syncloom raises on purpose."""

    def __init__(self, message: str, *, record_key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.record_key = record_key

    def __str__(self) -> str:
        if self.record_key:
            return f"{self.message} (record {self.record_key})"
        return self.message


class ConfigError(SyncError):
    """Bad settings, Solution file or flow document; fix the configuration, never retried."""

    def __init__(
        self, message: str, *, path: str | None = None, record_key: str | None = None
    ) -> None:
        super().__init__(f"{path}: {message}" if path else message, record_key=record_key)
        self.path = path


class VaultError(ConfigError):
    """A credential cannot be decrypted: wrong master key, tampered or moved ciphertext."""


class MappingError(SyncError):
    """A record cannot be translated between systems; dead-lettered at once."""

    def __init__(
        self, message: str, *, field: str | None = None, record_key: str | None = None
    ) -> None:
        super().__init__(f"{field}: {message}" if field else message, record_key=record_key)
        self.field = field


class FieldValueError(MappingError):
    """A mapped value the target field would refuse: too long, wrong type, not a choice, empty.

    Found before the write against the target's own field list, so nothing is written and the
    record is dead-lettered with the field and the system named.

    Attributes:
        system: the target system (``creatio``, ``intacct``, ``d365``).
        entity: the target entity.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str,
        system: str,
        entity: str,
        record_key: str | None = None,
    ) -> None:
        super().__init__(message, field=field, record_key=record_key)
        self.system = system
        self.entity = entity


class ConflictError(SyncError):
    """Both sides changed the same field and the policy asks a person to decide."""


class RemoteError(SyncError):
    """The external system refused or failed a request; carries the system's own error text.

    Attributes:
        system: which system answered (``creatio``, ``intacct``, ``d365``).
        status: the HTTP status, when there was one.
        vendor_code: the system's own error number or code (``BL01001973``, ``PL01000008``...).
        vendor_message: the system's own error text, verbatim.
    """

    def __init__(
        self,
        message: str,
        *,
        system: str = "",
        status: int | None = None,
        vendor_code: str | None = None,
        vendor_message: str | None = None,
        record_key: str | None = None,
    ) -> None:
        super().__init__(message, record_key=record_key)
        self.system = system
        self.status = status
        self.vendor_code = vendor_code
        self.vendor_message = vendor_message if vendor_message is not None else message


class TransientError(RemoteError):
    """The request may succeed later: 5xx, timeouts, resets, lock contention."""

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: float | None = None,
        system: str = "",
        status: int | None = None,
        vendor_code: str | None = None,
        vendor_message: str | None = None,
        record_key: str | None = None,
    ) -> None:
        super().__init__(
            message,
            system=system,
            status=status,
            vendor_code=vendor_code,
            vendor_message=vendor_message,
            record_key=record_key,
        )
        self.retry_after_s = retry_after_s


class ThrottledError(TransientError):
    """The system asked us to slow down (429 or a vendor throttle); honour ``retry_after_s``."""


class StaleVersionError(TransientError):
    """The record changed between our read and our write (ETag mismatch); re-read and retry."""


class PermanentError(RemoteError):
    """Retrying the same request cannot help: validation, missing reference, permission."""


class AuthError(PermanentError):
    """Credentials were refused; the Connection pauses until someone fixes them."""


class NotFoundError(PermanentError):
    """The record, entity or field named in the request does not exist."""


class AlreadyExistsError(PermanentError):
    """A create named a key that already exists; the idempotent writer reads it instead."""

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        system: str = "",
        status: int | None = None,
        vendor_code: str | None = None,
        vendor_message: str | None = None,
        record_key: str | None = None,
    ) -> None:
        super().__init__(
            message,
            system=system,
            status=status,
            vendor_code=vendor_code,
            vendor_message=vendor_message,
            record_key=record_key,
        )
        self.key = key


class ValidationError(PermanentError):
    """The system rejected the values; ``field`` names the offending field when known."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        system: str = "",
        status: int | None = None,
        vendor_code: str | None = None,
        vendor_message: str | None = None,
        record_key: str | None = None,
    ) -> None:
        super().__init__(
            message,
            system=system,
            status=status,
            vendor_code=vendor_code,
            vendor_message=vendor_message,
            record_key=record_key,
        )
        self.field = field
