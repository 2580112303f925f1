"""The capped reader every connector's HTTP client shares."""

from __future__ import annotations

import asyncio
import gzip

import httpx
import pytest

from syncloom.connectors.http import (
    DEFAULT_MAX_RESPONSE_BYTES,
    CappedClient,
    ResponseTooLargeError,
    response_cap,
)
from syncloom.errors import ConfigError

MIB = 1024 * 1024


def _get(body: bytes, cap: int, headers: dict[str, str] | None = None) -> httpx.Response:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers or {}, content=body)

    async def run() -> httpx.Response:
        async with CappedClient(
            system="acme", max_response_bytes=cap, transport=httpx.MockTransport(answer)
        ) as http:
            return await http.get("http://acme.test/data?secret=1")

    return asyncio.run(run())


def test_an_answer_within_the_cap_reads_as_usual():
    response = _get(b'{"value": []}', cap=1024)
    assert response.status_code == 200
    assert response.json() == {"value": []}


def test_an_answer_over_the_cap_is_a_typed_error_naming_system_and_limit():
    with pytest.raises(ResponseTooLargeError) as caught:
        _get(b"x" * (MIB + 1), cap=MIB)
    assert caught.value.system == "acme"
    assert caught.value.limit_bytes == MIB
    assert "secret" not in str(caught.value), "the query string is left out of the message"


def test_a_compressed_bomb_counts_at_its_decoded_size():
    bomb = gzip.compress(b"\0" * (8 * MIB))
    assert len(bomb) < MIB // 8
    with pytest.raises(ResponseTooLargeError):
        _get(bomb, cap=MIB, headers={"Content-Encoding": "gzip"})
    small = _get(gzip.compress(b"ok"), cap=MIB, headers={"Content-Encoding": "gzip"})
    assert small.content == b"ok"


@pytest.mark.parametrize(
    ("value", "expected"), [(None, DEFAULT_MAX_RESPONSE_BYTES), ("1048576", MIB), (2048, 2048)]
)
def test_the_cap_comes_from_the_connection_options(value, expected):
    assert response_cap(value) == expected


@pytest.mark.parametrize("value", ["64MB", "0", -1])
def test_a_bad_cap_is_a_config_error(value):
    with pytest.raises(ConfigError, match="max_response_bytes"):
        response_cap(value)
