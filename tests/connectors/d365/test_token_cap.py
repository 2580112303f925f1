"""Entra ID answers are read through the byte cap too: a token endpoint cannot flood memory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from syncloom.connectors.d365.auth import TokenProvider
from syncloom.connectors.http import ResponseTooLargeError
from syncloom.simulators.common.server import SimulatorServer
from syncloom.simulators.common.tls import make_certificates

CAP = 64 * 1024


def authority(token: str) -> Starlette:
    """Discovery as Entra answers it; the token endpoint as ``token`` says."""

    async def discovery(request: Request) -> Response:
        root = f"{request.base_url}tenant".replace("http://", "https://")
        return JSONResponse(
            {
                "issuer": f"{root}/v2.0",
                "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                "token_endpoint": f"{root}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
            }
        )

    async def endless() -> AsyncIterator[bytes]:
        yield b'{"access_token": "'
        while True:
            yield b"x" * 65536
            await asyncio.sleep(0)

    async def grant(request: Request) -> Response:
        if token == "endless":
            return StreamingResponse(endless(), media_type="application/json")
        return Response(b"{" + b" " * (CAP * 4) + b"}", media_type="application/json")

    return Starlette(
        routes=[
            Route("/tenant/v2.0/.well-known/openid-configuration", discovery),
            Route("/tenant/oauth2/v2.0/token", grant, methods=["POST"]),
        ]
    )


@pytest.fixture(params=["endless", "declared"])
def provider(request: pytest.FixtureRequest) -> Iterator[TokenProvider]:
    certs = make_certificates()
    server = SimulatorServer(
        authority(request.param), certfile=str(certs.cert_file), keyfile=str(certs.key_file)
    )
    with server:
        tokens = TokenProvider(
            authority=f"{server.base_url}/tenant",
            client_id="client",
            client_secret="very-secret-value",
            resource="https://fo.example",
            verify=str(certs.ca_file),
            max_response_bytes=CAP,
        )
        yield tokens
        tokens.close()


@pytest.mark.timeout(60)
def test_an_oversized_token_answer_is_refused_with_the_limit(provider: TokenProvider) -> None:
    with pytest.raises(ResponseTooLargeError) as caught:
        asyncio.run(provider.token())
    assert caught.value.limit_bytes == CAP
    assert "very-secret-value" not in str(caught.value)
