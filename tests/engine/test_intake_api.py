"""read_capped: the webhook body is counted while it streams in, and cut off at the cap."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from syncloom.engine.intake_api import read_capped
from syncloom.engine.signatures import WebhookRejected

CHUNK = 1024


def _request(
    chunks: int | None, headers: dict[str, str] | None = None
) -> tuple[Request, list[int]]:
    """A request whose body arrives in 1 KiB chunks (a thousand when ``chunks`` is None)."""
    pulled = [0]

    async def receive() -> dict[str, object]:
        pulled[0] += 1
        # Far past any cap under test, yet finite: a reader without a cap fails, not hangs.
        more = pulled[0] < (chunks or 1000)
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": more}

    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {"type": "http", "method": "POST", "path": "/hooks/a/b", "headers": raw}
    return Request(scope, receive), pulled


@pytest.mark.anyio
async def test_endless_body_is_refused_after_reading_just_past_the_cap():
    request, pulled = _request(None)
    with pytest.raises(WebhookRejected) as refused:
        await read_capped(request, 10 * CHUNK)
    assert refused.value.status == 413
    assert pulled[0] == 11


@pytest.mark.anyio
async def test_body_within_the_cap_is_read_whole():
    request, _ = _request(10)
    assert await read_capped(request, 10 * CHUNK) == b"x" * (10 * CHUNK)


@pytest.mark.anyio
async def test_declared_oversize_is_refused_without_reading():
    request, pulled = _request(None, {"Content-Length": str(10 * CHUNK + 1)})
    with pytest.raises(WebhookRejected) as refused:
        await read_capped(request, 10 * CHUNK)
    assert refused.value.status == 413
    assert pulled[0] == 0


@pytest.mark.anyio
async def test_malformed_content_length_is_a_bad_request():
    request, _ = _request(1, {"Content-Length": "ten"})
    with pytest.raises(WebhookRejected) as refused:
        await read_capped(request, 10 * CHUNK)
    assert refused.value.status == 400
