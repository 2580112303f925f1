"""Field checks: a mapped payload measured against the target's own field list before a write.

A value the target would refuse (too long, not a number, not one of its choices, a required
field left empty on create) is found here, with the field named, instead of after a vendor
round-trip with an answer in the vendor's words. Custom fields (a CRM's user columns, an ERP's
user-defined fields) are checked the same way because ``describe`` lists them.
Fields the target does not list are left to the target: a connector that knows no field list
keeps writing as before.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from syncloom.connectors.base import Connector, EntitySpec, FieldSpec, FieldType
from syncloom.errors import FieldValueError

__all__ = ["FieldChecker", "check_payload"]

_INTEGER = re.compile(r"^[+-]?\d+$")
_BOOLEAN_TEXT = frozenset({"true", "false"})


def _is_integer(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and bool(_INTEGER.match(value.strip()))


def _is_decimal(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float | Decimal):
        return True
    if not isinstance(value, str):
        return False
    try:
        return Decimal(value.strip()).is_finite()
    except InvalidOperation:
        return False


def _is_boolean(value: object) -> bool:
    return isinstance(value, bool) or (isinstance(value, str) and value.lower() in _BOOLEAN_TEXT)


def _is_date(value: object) -> bool:
    if isinstance(value, date):
        return True
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_guid(value: object) -> bool:
    if isinstance(value, uuid.UUID):
        return True
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _is_scalar(value: object) -> bool:
    return not isinstance(value, Mapping | list | tuple | set)


# What a value of each type may look like on its way out; connectors convert the rest.
_SHAPES: dict[FieldType, tuple[str, Callable[[object], bool]]] = {
    FieldType.STRING: ("text", _is_scalar),
    FieldType.INTEGER: ("a whole number", _is_integer),
    FieldType.DECIMAL: ("a number", _is_decimal),
    FieldType.BOOLEAN: ("true or false", _is_boolean),
    FieldType.DATE: ("a date", _is_date),
    FieldType.DATETIME: ("a date and time", _is_date),
    FieldType.GUID: ("a GUID", _is_guid),
    FieldType.LOOKUP: ("a reference", _is_scalar),
    FieldType.ENUM: ("one value", _is_scalar),
    FieldType.LINES: ("a list of lines", lambda v: isinstance(v, list | tuple)),
}


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _Target:
    """Where a payload goes, named in every refusal (``erp Customer``)."""

    def __init__(self, system: str, entity: str, record_key: str | None) -> None:
        self.system, self.entity, self.record_key = system, entity, record_key

    def refuse(self, spec: FieldSpec, message: str) -> FieldValueError:
        custom = " (a custom field)" if spec.custom else ""
        return FieldValueError(
            f"{message}{custom}; {self.system} {self.entity} would refuse it",
            field=spec.name,
            system=self.system,
            entity=self.entity,
            record_key=self.record_key,
        )


def _check_value(spec: FieldSpec, value: object, target: _Target) -> None:
    expected, fits = _SHAPES.get(spec.type, ("a value", _is_scalar))
    if not fits(value):
        message = f"expects {expected} ({spec.type.value}), got {type(value).__name__}"
        raise target.refuse(spec, message)
    text = str(value)
    if spec.max_length is not None and isinstance(value, str) and len(text) > spec.max_length:
        message = f"is {len(text)} characters long; the target allows {spec.max_length}"
        raise target.refuse(spec, message)
    if spec.allowed_values and text not in spec.allowed_values:
        choices = ", ".join(spec.allowed_values)
        raise target.refuse(spec, f"{text!r} is not one of the allowed values ({choices})")


def _check_required(entity: EntitySpec, payload: Mapping[str, object], target: _Target) -> None:
    for spec in entity.fields:
        # Keys are chosen by the key template, server-set fields by the system itself, and a
        # required field the flow does not map may still get the system's default (a CRM
        # fills its non-nullable owner column itself); only a mapped empty value is certain
        # to be refused.
        if not spec.required or spec.read_only or spec.name in entity.key_fields:
            continue
        if spec.name in payload and _is_empty(payload[spec.name]):
            raise target.refuse(
                spec, "is required to create a record and the mapped value is empty"
            )


def check_payload(
    entity: EntitySpec,
    payload: Mapping[str, object],
    *,
    for_create: bool,
    record_key: str | None = None,
    system: str = "the target",
) -> None:
    """Check each value of ``payload`` against the field ``entity`` declares for it.

    Args:
        entity: the target entity as its connector describes it.
        payload: target-named values about to be written.
        for_create: also refuse an empty value in a required field.
        record_key: the source record, named in the error.
        system: the target system, named in the error.

    Raises:
        FieldValueError: the first field the target would refuse, with the reason, the
            field, the system and the entity.
    """
    target = _Target(system, entity.name, record_key)
    if for_create:
        _check_required(entity, payload, target)
    for name, value in payload.items():
        spec = entity.field(name)
        if spec is None or value is None:
            continue
        _check_value(spec, value, target)


class FieldChecker:
    """Checks payloads for one target entity, describing it once.

    Example::

        checker = FieldChecker(connector, "CUSTOMER")
        await checker.check({"NAME": "Acme"}, for_create=True)
    """

    def __init__(self, connector: Connector, entity: str) -> None:
        self.connector = connector
        self.entity = entity
        self._spec: EntitySpec | None = None

    async def spec(self) -> EntitySpec:
        """The entity's field list, asked of the connector the first time only."""
        if self._spec is None:
            self._spec = await self.connector.describe(self.entity)
        return self._spec

    async def check(
        self, payload: Mapping[str, object], *, for_create: bool, record_key: str | None = None
    ) -> None:
        """Check ``payload`` before it is written (see :func:`check_payload`).

        Raises:
            FieldValueError: a value the target would refuse.
        """
        if not payload:
            return
        spec = await self.spec()
        check_payload(
            spec,
            payload,
            for_create=for_create,
            record_key=record_key,
            system=self.connector.system,
        )
