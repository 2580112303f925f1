"""The connector contract suite: one bar every Connector clears against its simulator.

How do we know a connector keeps the promises the engine relies on? Bind this suite to it::

    from syncloom.testing import EntityCase, contract_test_class

    TestContract = contract_test_class(
        start_simulator=running_intacct_simulator,    # a context manager yielding a handle
        make_connector=lambda sim: IntacctConnector(...sim.base_url...),
        entities=[EntityCase("CUSTOMER", sample=customer_values, changes={"NAME": "Renamed"},
                             invalid={"NAME": ""}, search_field="NAME")],
    )

For every entity the suite checks: describe; create-then-get round-trips the sample's fields;
a create retried with the same key never makes a second record; update; ``read_changes``
returns every record modified at or after the watermark, including many records sharing one
timestamp across page edges, each once; ``batch`` reports partial failure per op; deletes
follow the entity's delete policy; ``iter_keys`` and ``search`` find what was made; 429
becomes ThrottledError with its retry hint, 5xx and resets TransientError, and validation
errors a PermanentError carrying the vendor's own text.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from syncloom.connectors.base import (
    Connector,
    DeletePolicy,
    Op,
    OpKind,
    Record,
)
from syncloom.errors import (
    AlreadyExistsError,
    NotFoundError,
    PermanentError,
    ThrottledError,
    TransientError,
)
from syncloom.testing.harness import SimulatorHandle

__all__ = ["EntityCase", "contract_test_class"]

_numbers = itertools.count(1)


@dataclass(frozen=True)
class EntityCase:
    """How the suite exercises one entity.

    Attributes:
        entity: the connector's entity name.
        sample: makes valid values for the n-th record (unique for each n).
        changes: an update that the system accepts.
        invalid: values the system rejects with a validation error.
        key: makes the client-chosen key of the n-th record; ``None`` when the system assigns
            keys, in which case ``natural_key`` names the field that must stay unique.
        natural_key: the field whose repeat is refused when the system assigns keys.
        search_field: a field of ``sample`` that ``search`` can match on.
        compare: fields to round-trip (default: every field of ``sample``).
    """

    entity: str
    sample: Callable[[int], dict[str, Any]]
    changes: dict[str, Any]
    invalid: dict[str, Any]
    key: Callable[[int], str] | None = None
    natural_key: str | None = None
    search_field: str | None = None
    compare: tuple[str, ...] = ()
    page_size: int = 5
    extra: dict[str, Any] = field(default_factory=dict)

    def fields(self, values: dict[str, Any]) -> tuple[str, ...]:
        """The fields whose values must survive a round trip."""
        return self.compare or tuple(k for k, v in values.items() if not isinstance(v, list))


def _same(expected: object, actual: object) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):  # bool is an int subclass
        return expected == actual
    if isinstance(expected, Decimal | int | float) and isinstance(actual, Decimal | int | float):
        return Decimal(str(expected)) == Decimal(str(actual))
    return expected == actual


def assert_round_trip(case: EntityCase, values: dict[str, Any], record: Record) -> None:
    """Every compared field reads back equal to what was written."""
    wrong = {
        name: (values[name], record.values.get(name))
        for name in case.fields(values)
        if not _same(values[name], record.values.get(name))
    }
    assert not wrong, f"{case.entity}: fields read back differently (sent, read): {wrong}"


def contract_test_class(
    *,
    start_simulator: Callable[[], AbstractContextManager[SimulatorHandle]],
    make_connector: Callable[[SimulatorHandle], Connector],
    entities: Sequence[EntityCase],
) -> type:
    """Build the pytest class that holds a connector to the shared contract.

    Args:
        start_simulator: starts the simulator on loopback and yields its handle.
        make_connector: builds the connector under test for a running simulator.
        entities: the entities to exercise and how.

    Returns:
        A test class to assign to a ``Test...`` name in the connector's test module.
    """
    cases = {case.entity: case for case in entities}

    class ConnectorContract(_ContractTests):
        @pytest.fixture(scope="class")
        def simulator(self) -> Iterator[SimulatorHandle]:
            with start_simulator() as handle:
                yield handle

        @pytest.fixture
        async def connector(self, simulator: SimulatorHandle) -> AsyncIterator[Connector]:
            simulator.clear_faults()
            simulator.freeze_clock(None)
            conn = make_connector(simulator)
            try:
                yield conn
            finally:
                await conn.aclose()
                simulator.clear_faults()
                simulator.freeze_clock(None)

        @pytest.fixture(params=list(cases), ids=list(cases))
        def case(self, request: pytest.FixtureRequest) -> EntityCase:
            return cases[request.param]

    return ConnectorContract


async def _create(
    conn: Connector, case: EntityCase, n: int | None = None
) -> tuple[dict[str, Any], Record]:
    n = n if n is not None else next(_numbers) + 10_000
    values = case.sample(n)
    key = case.key(n) if case.key else None
    return values, await conn.create(case.entity, values, key)


@pytest.mark.anyio
class _ContractTests:
    """The checks themselves; ``contract_test_class`` supplies the fixtures."""

    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"

    async def test_describe_names_keys_and_fields(
        self, connector: Connector, case: EntityCase
    ) -> None:
        spec = await connector.describe(case.entity)
        assert spec.key_fields, f"{case.entity} declares no key fields"
        names = {f.name for f in spec.fields}
        missing = set(case.fields(case.sample(1))) - names
        assert not missing, f"{case.entity} sample uses fields describe() does not list: {missing}"

    async def test_create_then_get_round_trips(
        self, connector: Connector, case: EntityCase
    ) -> None:
        values, created = await _create(connector, case)
        assert_round_trip(case, values, created)
        read = await connector.get(case.entity, created.key.id)
        assert read is not None, f"{created.key} was created but get() finds nothing"
        assert read.key == created.key
        assert_round_trip(case, values, read)
        assert read.modified_on_utc.tzinfo is not None

    async def test_retried_create_does_not_duplicate(
        self, connector: Connector, case: EntityCase
    ) -> None:
        n = next(_numbers) + 20_000
        values, first = await _create(connector, case, n)
        with pytest.raises(AlreadyExistsError):
            await _create(connector, case, n)
        probe = case.search_field or case.natural_key
        if probe:
            found = await connector.search(case.entity, {probe: values[probe]})
            assert [r.key for r in found] == [first.key]

    async def test_update_changes_fields(self, connector: Connector, case: EntityCase) -> None:
        _, created = await _create(connector, case)
        updated = await connector.update(case.entity, created.key.id, case.changes)
        read = await connector.get(case.entity, created.key.id)
        assert read is not None
        for name, value in case.changes.items():
            assert _same(value, read.values.get(name)), (
                f"{name}: {value!r} != {read.values.get(name)!r}"
            )
            assert _same(value, updated.values.get(name))
        assert read.modified_on_utc >= created.modified_on_utc

    async def test_update_of_missing_record_is_not_found(
        self, connector: Connector, case: EntityCase
    ) -> None:
        _, created = await _create(connector, case)
        await connector.delete(case.entity, created.key.id)
        spec = await connector.describe(case.entity)
        if spec.delete_policy is DeletePolicy.DELETE:
            with pytest.raises(NotFoundError):
                await connector.update(case.entity, created.key.id, case.changes)

    async def test_read_changes_loses_nothing_at_equal_timestamps(
        self, connector: Connector, simulator: SimulatorHandle, case: EntityCase
    ) -> None:
        moment = datetime.now(UTC).replace(microsecond=0) + timedelta(days=400 + next(_numbers))
        simulator.freeze_clock(moment - timedelta(hours=1))
        _, before = await _create(connector, case)
        simulator.freeze_clock(moment)
        made = [(await _create(connector, case))[1].key for _ in range(case.page_size * 2 + 3)]
        simulator.freeze_clock(moment + timedelta(seconds=5))
        _, after = await _create(connector, case)
        simulator.freeze_clock(None)
        seen = await _walk_changes(connector, case, moment)
        assert len(seen) == len(set(seen)), "read_changes returned a record twice"
        assert set(made) <= set(seen), f"lost at the page edge: {set(made) - set(seen)}"
        assert after.key in seen
        assert before.key not in seen, "a record modified before the watermark was returned"

    async def test_batch_reports_partial_failure(
        self, connector: Connector, case: EntityCase
    ) -> None:
        ops = []
        for bad in (False, True, False):
            n = next(_numbers) + 30_000
            values = {**case.sample(n), **(case.invalid if bad else {})}
            ops.append(Op(OpKind.CREATE, case.entity, case.key(n) if case.key else None, values))
        results = await connector.batch(ops)
        assert [r.ok for r in results] == [True, False, True], [r.error for r in results]
        assert isinstance(results[1].error, PermanentError)
        for result in (results[0], results[2]):
            assert result.record is not None
            assert await connector.get(case.entity, result.record.key.id) is not None

    async def test_delete_follows_policy(self, connector: Connector, case: EntityCase) -> None:
        spec = await connector.describe(case.entity)
        _, created = await _create(connector, case)
        await connector.delete(case.entity, created.key.id)
        read = await connector.get(case.entity, created.key.id)
        if spec.delete_policy is DeletePolicy.DELETE:
            assert read is None
        else:
            assert read is not None, "a deactivated record must still be readable"

    async def test_iter_keys_and_search_find_records(
        self, connector: Connector, case: EntityCase
    ) -> None:
        values, created = await _create(connector, case)
        keys = [k async for page in _pages(connector, case.entity) for k in page]
        assert created.key.id in keys
        if case.search_field:
            found = await connector.search(
                case.entity, {case.search_field: values[case.search_field]}
            )
            assert created.key in [r.key for r in found]

    async def test_validation_error_keeps_vendor_text(
        self, connector: Connector, case: EntityCase
    ) -> None:
        n = next(_numbers) + 40_000
        with pytest.raises(PermanentError) as caught:
            await connector.create(
                case.entity, {**case.sample(n), **case.invalid}, case.key(n) if case.key else None
            )
        assert caught.value.vendor_message, "the vendor's own error text was dropped"
        assert caught.value.system == connector.system

    async def test_throttle_becomes_throttled_error(
        self, connector: Connector, simulator: SimulatorHandle, case: EntityCase
    ) -> None:
        await connector.get(case.entity, _missing_key(case))  # sign in before the fault
        simulator.set_faults(retry_after_s=7)
        simulator.script_faults(["429"])
        with pytest.raises(ThrottledError) as caught:
            await connector.get(case.entity, _missing_key(case))
        assert caught.value.retry_after_s == 7

    @pytest.mark.parametrize("fault", ["500", "503", "reset"])
    async def test_server_failure_becomes_transient(
        self, connector: Connector, simulator: SimulatorHandle, case: EntityCase, fault: str
    ) -> None:
        await connector.get(case.entity, _missing_key(case))
        simulator.script_faults([fault])
        with pytest.raises(TransientError) as caught:
            await connector.get(case.entity, _missing_key(case))
        assert not isinstance(caught.value, ThrottledError)
        assert await connector.get(case.entity, _missing_key(case)) is None  # and it recovers


def _missing_key(case: EntityCase) -> str:
    return case.key(999_999_999) if case.key else "999999999"


async def _pages(conn: Connector, entity: str) -> AsyncIterator[Sequence[str]]:
    async for page in conn.iter_keys(entity, page_size=7):
        yield page


async def _walk_changes(conn: Connector, case: EntityCase, since: datetime) -> list[Any]:
    seen: list[Any] = []
    cursor: str | None = None
    for _ in range(10_000):
        page = await conn.read_changes(case.entity, since, cursor, page_size=case.page_size)
        seen.extend(r.key for r in page.records)
        assert all(r.modified_on_utc >= since for r in page.records)
        cursor = page.cursor
        if cursor is None:
            return seen
    raise AssertionError("read_changes never reached its last page")
