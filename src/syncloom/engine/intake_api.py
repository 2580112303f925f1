"""The webhook endpoint: ``POST /hooks/{tenant}/{connection}`` in front of the Intake.

The web process mounts the router this module builds (``app.include_router(...)``). The tenant
is named by slug or id, the connection by name. The body is read while streaming with a size
cap, so an oversized or endless body is refused at the cap, never buffered whole. Every refusal
is a JSON body ``{"error": ..., "reason": ...}`` with the status the Intake chose. A body
that trickles in slower than ``body_timeout_s`` allows is refused with 408, so a slow sender
cannot hold a worker's connection open.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from syncloom.engine.intake import Intake
from syncloom.engine.signatures import WebhookRejected
from syncloom.log import get_logger

__all__ = ["intake_router", "read_capped"]

_ERRORS = {
    400: "malformed",
    401: "unauthenticated",
    404: "not_found",
    408: "stale",
    409: "replay",
    413: "too_large",
}
_log = get_logger(__name__)
BODY_TIMEOUT_S = 10.0


def intake_router(intake: Intake, *, body_timeout_s: float = BODY_TIMEOUT_S) -> APIRouter:
    """Build the router that hands pushed deliveries to ``intake``.

    Args:
        intake: stores and enqueues accepted deliveries.
        body_timeout_s: the longest a sender may take to send its whole body.

    Returns:
        A router with ``POST /hooks/{tenant}/{connection}``, answering 202 with
        ``{"accepted", "hints", "enqueued"}`` or an error body.
    """
    router = APIRouter(tags=["webhooks"])

    @router.post("/hooks/{tenant}/{connection}", status_code=202)
    async def receive_hook(tenant: str, connection: str, request: Request) -> JSONResponse:
        """Accept one signed change notice from a Connection's system."""
        try:
            body = await read_capped(request, intake.max_body_bytes, timeout_s=body_timeout_s)
            # The intake talks to the database synchronously: keep it off the event loop.
            tenant_id = await run_in_threadpool(intake.tenant_id, tenant)
            headers = dict(request.headers)
            result = await run_in_threadpool(intake.accept, tenant_id, connection, headers, body)
        except WebhookRejected as exc:
            error = _ERRORS.get(exc.status, "rejected")
            # The reason names what failed, never a secret; the body is not logged.
            _log.info(
                "webhook refused",
                tenant=tenant,
                connection=connection,
                status=exc.status,
                reason=exc.reason,
            )
            return JSONResponse({"error": error, "reason": exc.reason}, status_code=exc.status)
        return JSONResponse(result.as_json(), status_code=202)

    return router


async def read_capped(request: Request, limit: int, *, timeout_s: float | None = None) -> bytes:
    """The request body, read chunk by chunk and refused as soon as it passes ``limit``.

    Raises:
        WebhookRejected: 413 when the declared or the streamed length passes ``limit``,
            400 when the declared length is not a number, 408 when the whole body takes
            longer than ``timeout_s`` to arrive.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise WebhookRejected(400, "malformed Content-Length header")
        if int(declared) > limit:
            raise WebhookRejected(413, f"body larger than {limit} bytes")
    try:
        async with asyncio.timeout(timeout_s):
            return await _read_chunks(request, limit)
    except TimeoutError:
        raise WebhookRejected(408, f"body not received within {timeout_s:g} s") from None


async def _read_chunks(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise WebhookRejected(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
