"""Change notices: a signed POST per insert, update and delete, sent without blocking."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.creatio.webhooks import SENDERS, lane_of
from tests.simulators.creatio.conftest import login


def receiver() -> tuple[Starlette, list[tuple[dict[str, str], bytes]]]:
    received: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: Request) -> Response:
        received.append((dict(request.headers), await request.body()))
        return Response(b"", 204)

    return Starlette(routes=[Route("/hook", hook, methods=["POST"])]), received


def wait_for(received: list, count: int, deadline_s: float = 10.0) -> None:
    deadline = time.monotonic() + deadline_s
    while len(received) < count:
        assert time.monotonic() < deadline, f"only {len(received)} of {count} notices arrived"
        time.sleep(0.02)


def test_every_write_posts_a_signed_notice(server):
    app, received = receiver()
    with SimulatorServer(app) as sink:
        registered = httpx.post(
            f"{server.base_url}/_sim/webhooks",
            json={"url": f"{sink.base_url}/hook", "secret": "s3cret", "entities": ["City"]},
        )
        assert registered.status_code == 201
        assert "secret" not in registered.json()
        crm = login(server.base_url)
        made = crm.post("/0/odata/City", json={"Name": "Hooked"}).json()
        crm.patch(f"/0/odata/City({made['Id']})", json={"Name": "Hooked 2"})
        crm.delete(f"/0/odata/City({made['Id']})")
        crm.post("/0/odata/Country", json={"Name": "Not watched"})
        wait_for(received, 3)
        httpx.delete(f"{server.base_url}/_sim/webhooks")
    notices = [json.loads(body) for _, body in received]
    assert [n["action"] for n in notices] == ["insert", "update", "delete"]
    assert {n["entity"] for n in notices} == {"City"}
    assert notices[0]["id"] == made["Id"]
    assert notices[0]["modifiedOn"] == made["ModifiedOn"]
    assert notices[0]["modifiedBy"] == made["ModifiedById"]
    for headers, body in received:
        expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert headers["x-syncloom-signature"] == f"sha256={expected}"
        assert abs(int(headers["x-syncloom-timestamp"]) - time.time()) < 3600


def test_an_unreachable_receiver_never_blocks_writes(server):
    httpx.post(
        f"{server.base_url}/_sim/webhooks",
        json={"url": "http://127.0.0.1:9/nowhere", "secret": "x"},
    )
    crm = login(server.base_url)
    try:
        assert crm.post("/0/odata/City", json={"Name": "Still fast"}).status_code == 201
    finally:
        httpx.delete(f"{server.base_url}/_sim/webhooks")


def test_a_slow_receiver_for_one_record_does_not_hold_back_the_others(server):
    """Notices of different records travel side by side; one record's stay in order."""
    received: list[dict[str, str]] = []
    release = threading.Event()

    async def hook(request: Request) -> Response:
        notice = json.loads(await request.body())
        received.append(notice)
        if notice["id"] == held and not release.is_set():
            await asyncio.to_thread(release.wait, 10)
        return Response(b"", 204)

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    crm = login(server.base_url)
    held = crm.post("/0/odata/City", json={"Name": "Held"}).json()["Id"]
    held_lane = lane_of("City", held, SENDERS)
    with SimulatorServer(app) as sink:
        httpx.post(
            f"{server.base_url}/_sim/webhooks",
            json={"url": f"{sink.base_url}/hook", "secret": "s", "entities": ["City"]},
        )
        crm.patch(f"/0/odata/City({held})", json={"Name": "Held 1"})  # its receiver waits
        crm.patch(f"/0/odata/City({held})", json={"Name": "Held 2"})
        made = [crm.post("/0/odata/City", json={"Name": f"Other {n}"}).json() for n in range(12)]
        # Records on the held record's sender wait behind it, as one thread made them all.
        others = [o["Id"] for o in made if lane_of("City", o["Id"], SENDERS) != held_lane]
        assert others
        # Every other record's notice arrives while the held one's receiver still waits,
        # and the held record's second notice waits for its first.
        wait_for(received, 1 + len(others))
        assert {n["id"] for n in received} >= set(others)
        assert [n["id"] for n in received].count(held) == 1
        release.set()
        wait_for(received, 2 + len(made))
        httpx.delete(f"{server.base_url}/_sim/webhooks")
    assert [n["action"] for n in received if n["id"] == held] == ["update", "update"]
