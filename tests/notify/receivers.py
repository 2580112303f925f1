"""Local receivers for alerts: an SMTP server (aiosmtpd) and a Slack-webhook stand-in."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from syncloom.simulators.common.server import SimulatorServer


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_inbox() -> Iterator[tuple[int, list[Message]]]:
    """A local SMTP server; yields its port and the messages it received."""
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller.port, inbox.messages
    finally:
        controller.stop()


class SlackReceiver:
    """An ASGI app taking incoming-webhook posts; answers ``status`` (200 unless told)."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.status = 200

    async def __call__(
        self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        self.posts.append({"path": scope["path"], "json": json.loads(body or b"null")})
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send(
            {"type": "http.response.body", "body": b"ok" if self.status == 200 else b"no_service"}
        )


@contextmanager
def slack_receiver() -> Iterator[tuple[str, SlackReceiver]]:
    """A running Slack-webhook stand-in; yields a webhook URL and the receiver."""
    receiver = SlackReceiver()
    with SimulatorServer(receiver) as server:
        yield f"{server.base_url}/services/T000/B000/secretpart", receiver


def wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Poll ``condition`` until it holds or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        time.sleep(0.02)
