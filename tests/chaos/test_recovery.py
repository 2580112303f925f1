"""Regressions the chaos rounds found, pinned one by one over real HTTP on loopback.

* A create that dies after the target exists but before the write-back: the retry finds the
  twin, sees nothing to change, and used to settle without ever writing the key back.
* A throttled (429) Entra ID discovery answer: msal raises ``ValueError``, which used to
  become a permanent ``AuthError`` and dead-letter the record instead of being retried.
* A throttled (429) token request after discovery: msal returns the answer's JSON as an
  error result, which also became an ``AuthError``, and kept a non-OAuth error in its
  telemetry that broke every later token call of that application.
* A create resumed after the source changed kept the first attempt's values on the target,
  while the link's base claimed the new ones: the difference never travelled.
* A SIGKILLed worker's Governor slots stayed leased for two minutes, so a restarted worker
  found the Connection's whole concurrency budget taken by the dead one.
"""

from __future__ import annotations

import asyncio

import pytest

from syncloom.connectors.base import RecordKey
from syncloom.connectors.d365.auth import TokenProvider
from syncloom.engine.budget import Limits
from syncloom.engine.clock import SystemClock
from syncloom.engine.governor import Governor, release_departed
from syncloom.errors import AuthError, TransientError
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.common.tls import make_certificates
from syncloom.simulators.d365.app import D365Simulator
from syncloom.testing import SimulatorHandle
from tests.e2e.world import flow_document, world

pytestmark = pytest.mark.e2e


class Killed(Exception):
    """Stands for the process dying at the marked point."""


async def _first_account(crm):
    async for page in crm.iter_keys("Account"):
        return await crm.get("Account", page[0])
    raise AssertionError("no account")


def test_retry_after_a_crash_before_the_write_back_still_writes_the_key_back(tmp_path):
    with world(tmp_path, flow_document()) as w:
        job = w.inst.unit("accounts").job
        account = w.run(_first_account(w.crm))
        real_write_back = job.write_back

        async def die(*args, **kwargs):
            raise Killed

        job.write_back = die  # type: ignore[method-assign]
        with pytest.raises(Killed):
            w.run(job.run(account.key))
        job.write_back = real_write_back  # type: ignore[method-assign]
        outcome = w.run(job.run(account.key))
        customer_id = RecordKey.parse(outcome.target_key).id
        assert w.run(w.crm.get("Account", account.key.id)).values["UsrErpCustomerId"] == customer_id
        # Settled now: the write-back's own echo and a third run write nothing more.
        again = w.run(job.run(account.key))
        assert again.writes == 0, again


@pytest.fixture(scope="module")
def d365():
    certs = make_certificates()
    server = SimulatorServer(
        D365Simulator(records=1), certfile=str(certs.cert_file), keyfile=str(certs.key_file)
    )
    with server:
        yield server, str(certs.ca_file)


def _provider(base_url: str, ca_file: str, tenant: str = "simtenant") -> TokenProvider:
    return TokenProvider(
        authority=f"{base_url}/{tenant}",
        client_id="sim-client",
        client_secret="sim-secret",
        resource=base_url,
        verify=ca_file,
    )


@pytest.mark.parametrize("fault", ["429", "503"])
def test_a_throttled_or_failing_authority_is_transient_and_the_next_try_gets_a_token(d365, fault):
    server, ca_file = d365
    SimulatorHandle(server.base_url, verify=ca_file).script_faults([fault])
    tokens = _provider(server.base_url, ca_file)
    with pytest.raises(TransientError) as caught:
        asyncio.run(tokens.token())
    assert not isinstance(caught.value, AuthError)
    assert "sim-secret" not in str(caught.value)
    assert asyncio.run(tokens.token())


def test_a_throttled_token_request_after_discovery_is_transient_and_the_next_try_works(d365):
    # Discovery is done and cached; only the token request itself is throttled, and msal
    # hands back the 429's JSON as an error result instead of raising (and would fail every
    # later call of that application on it).
    server, ca_file = d365
    tokens = _provider(server.base_url, ca_file)
    assert asyncio.run(tokens.token())
    asyncio.run(tokens.invalidate())
    SimulatorHandle(server.base_url, verify=ca_file).script_faults(["429"])
    with pytest.raises(TransientError) as caught:
        asyncio.run(tokens.token())
    assert not isinstance(caught.value, AuthError)
    assert "sim-secret" not in str(caught.value)
    assert asyncio.run(tokens.token())


def test_an_unknown_tenant_is_still_a_permanent_auth_error(d365):
    server, ca_file = d365
    with pytest.raises(AuthError):
        asyncio.run(_provider(server.base_url, ca_file, tenant="nosuchtenant").token())


def _governor(w, owner: str) -> Governor:
    governor = Governor(
        w.sessions,
        tenant_id=w.inst.tenant_id,
        connection_id=w.inst.connections["erp"].connection_id,
        limits=Limits(rate_per_s=1000, burst=100, max_in_flight=3),
        clock=SystemClock(),
        owner=owner,
    )
    governor.ensure()
    return governor


def test_a_restarted_worker_reclaims_the_slots_its_killed_predecessor_held(tmp_path):
    with world(tmp_path, flow_document()) as w:
        dead = _governor(w, "worker-1")
        neighbour = _governor(w, "worker-2")
        w.run(dead.acquire())
        w.run(dead.acquire())
        kept = w.run(neighbour.acquire())
        # worker-1 was SIGKILLed: its two slots were never released, and the budget is full.
        assert dead.try_acquire("probe").granted is False
        restarted = _governor(w, "worker-1")
        assert restarted.reclaim() == 2
        assert w.run(restarted.acquire())
        # worker-2 is alive: its slot stays leased until it gives it back.
        neighbour.release(kept)
        assert neighbour.reclaim() == 0


def test_slots_of_a_worker_that_never_comes_back_are_freed_when_it_is_recovered(tmp_path):
    with world(tmp_path, flow_document()) as w:
        gone = _governor(w, "worker-1")
        alive = _governor(w, "worker-2")
        w.run(gone.acquire())
        w.run(gone.acquire())
        kept = w.run(alive.acquire())
        assert alive.try_acquire("probe").granted is False, "the budget of 3 is full"
        # worker-1 is taken over by worker-2 (``syncloom recover worker-1``), never restarted.
        assert release_departed(w.sessions, ["worker-1"]) == 2
        assert w.run(alive.acquire())
        assert release_departed(w.sessions, ["worker-1"]) == 0, "nothing more to free"
        # worker-2 is alive: its slot stays leased until it gives it back.
        alive.release(kept)


def test_a_create_resumed_after_the_source_changed_brings_the_target_up_to_date(tmp_path):
    with world(tmp_path, flow_document()) as w:
        job = w.inst.unit("accounts").job
        account = w.run(_first_account(w.crm))
        real_write_back = job.write_back

        async def die(*args, **kwargs):
            raise Killed

        job.write_back = die  # type: ignore[method-assign]
        with pytest.raises(Killed):
            w.run(job.run(account.key))  # the customer exists now, with the old phone
        job.write_back = real_write_back  # type: ignore[method-assign]
        w.run(w.crm.update("Account", account.key.id, {"Phone": "+44 20 7946 0000"}))
        outcome = w.run(job.run(account.key))
        customer = w.run(w.erp.get("CUSTOMER", RecordKey.parse(outcome.target_key).id))
        assert customer.values["DISPLAYCONTACT.PHONE1"] == "+44 20 7946 0000"
        # And the link's base now tells the truth: another run finds nothing to write.
        assert w.run(job.run(account.key)).writes == 0
