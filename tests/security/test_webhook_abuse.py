"""Webhook abuse over a real socket: slow bodies, hostile JSON, and the intake still serves.

The refusals the intake already proves (missing or wrong signature, replay, stale timestamp,
oversize, endless body) live in ``tests/engine/test_intake.py``,
``tests/engine/test_signatures.py`` and ``tests/e2e/test_webhooks.py``. This module adds what
an attacker does next: trickle a body in byte by byte, or sign JSON built to break a parser
(deep nesting, invalid UTF-8, the wrong top-level type). Each is a 4xx with nothing stored,
and a genuine delivery right after still gets through.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from syncloom.engine.intake import Intake
from syncloom.engine.intake_api import intake_router
from syncloom.simulators.common.server import SimulatorServer
from tests.engine.test_intake import Setting, notice, setting, signed

pytestmark = pytest.mark.e2e

BODY_TIMEOUT_S = 0.5


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[Setting, Intake, str]]:
    with setting(tmp_path) as (world, intake):
        app = FastAPI()
        app.include_router(intake_router(intake, body_timeout_s=BODY_TIMEOUT_S))
        with SimulatorServer(app) as server:
            yield world, intake, f"{server.base_url}/hooks/acme/crm"


def _trickle(url: str, body: bytes, headers: dict[str, str], pause_s: float) -> bytes:
    """Send the headers, then the body one byte per ``pause_s``; return the raw answer."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    lines = ["POST /hooks/acme/crm HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall("\r\n".join(lines).encode())
        try:
            for byte in body:
                sock.sendall(bytes([byte]))
                time.sleep(pause_s)  # the attack itself: a sender that never hurries
        except OSError:
            pass  # the server may hang up first, which is the point
        return sock.recv(65536)


def test_a_body_trickled_in_slower_than_the_timeout_is_408_and_stores_nothing(served):
    world, _, url = served
    body = notice()
    answer = _trickle(url, body, signed(body), pause_s=0.05)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"reason":"body not received within 0.5 s"' in answer
    assert world.count() == 0
    assert world.enqueued == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"entity": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b'{"entity": "Account", "id": "\xff\xfe"}',
        b'[{"entity": "Account"}]',
        b'"just a string"',
        b'{"entity": "Account", "id": ' + b"9" * 100_000 + b"}",
        b"",
    ],
    ids=["deeply_nested", "invalid_utf8", "array", "string", "huge_number", "empty"],
)
def test_signed_hostile_json_is_400_and_stores_nothing(served, body):
    world, _, url = served
    answer = httpx.post(url, content=body, headers=signed(body))
    assert answer.status_code in {400, 413}, answer.text
    assert answer.json()["error"] in {"malformed", "too_large"}
    assert world.count() == 0
    assert world.enqueued == []


def test_after_the_abuse_a_genuine_delivery_still_gets_through(served):
    world, _, url = served
    body = notice()
    _trickle(url, body, signed(body), pause_s=0.05)
    httpx.post(url, content=b"{oops", headers=signed(b"{oops"))
    answer = httpx.post(url, content=body, headers=signed(body))
    assert answer.status_code == 202, answer.text
    assert world.count() == 1
    assert len(world.enqueued) == 1
