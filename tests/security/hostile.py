"""HostileProxy: a real simulator behind a proxy that answers chosen calls with hostile bytes.

Sign-in and token calls pass through to the simulator, so each connector gets as far as a
real data call; that call then gets whatever the test armed: an XML bomb, invalid UTF-8, a
truncated body, a huge page. Everything else about the exchange (status, headers, TLS,
sockets) stays real.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


@dataclass
class Armed:
    """The next hostile answer: its bytes, content type and status."""

    body: bytes = b""
    content_type: str = "application/json"
    status: int = 200
    # When set, the simulator answers and this rewrites its real body instead.
    rewrite: Callable[[bytes], bytes] | None = None
    # When set, the body is streamed from these chunks (possibly without end) until the
    # client hangs up; ``declared_length`` then goes out as Content-Length, if given.
    chunks: Callable[[], Iterable[bytes]] | None = None
    declared_length: int | None = None


class HostileProxy:
    """An ASGI app that forwards to ``inner`` unless ``is_data_call`` says to misbehave."""

    def __init__(self, inner: Any, is_data_call: Callable[[str, bytes], bool]) -> None:
        self.inner = inner
        self.is_data_call = is_data_call
        self.armed: Armed | None = None
        self.served = 0
        self.streamed_bytes = 0

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.armed is None:
            await self.inner(scope, receive, send)
            return
        body = await _read_all(receive)
        if not self.is_data_call(scope["path"], body):
            await self.inner(scope, _replay(body), send)
            return
        self.served += 1
        armed = self.armed
        if armed.rewrite is not None:
            await self._rewritten(scope, body, send, armed.rewrite)
            return
        if armed.chunks is not None:
            await self._streamed(armed, receive, send)
            return
        headers = [(b"content-type", armed.content_type.encode())]
        headers.append((b"content-length", str(len(armed.body)).encode()))
        await send({"type": "http.response.start", "status": armed.status, "headers": headers})
        await send({"type": "http.response.body", "body": armed.body})

    async def _streamed(self, armed: Armed, receive: Any, send: Any) -> None:
        assert armed.chunks is not None
        headers = [(b"content-type", armed.content_type.encode())]
        if armed.declared_length is not None:
            headers.append((b"content-length", str(armed.declared_length).encode()))
        await send({"type": "http.response.start", "status": armed.status, "headers": headers})
        # The request body is read, so the next message is the client hanging up.
        hung_up = asyncio.ensure_future(receive())
        try:
            for chunk in armed.chunks():
                await asyncio.sleep(0)  # a send to a gone client may never yield by itself
                if hung_up.done():
                    return
                self.streamed_bytes += len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            hung_up.cancel()

    async def _rewritten(
        self, scope: Scope, body: bytes, send: Any, rewrite: Callable[[bytes], bytes]
    ) -> None:
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.inner(scope, _replay(body), capture)
        new_body = rewrite(b"".join(chunks))
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(new_body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": new_body})


async def _read_all(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes) -> Callable[[], Any]:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
