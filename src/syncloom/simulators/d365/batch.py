"""Batch: ``POST /data/$batch`` as multipart/mixed, with atomic changesets.

Parts outside a changeset succeed or fail alone; a changeset is all or nothing and a failure
answers with one error part for the whole changeset. The outer status is 200 whatever the
parts say. Inner request lines may be absolute, root-relative or service-relative, and
``$<Content-ID>`` refers to an entity created earlier in the same changeset.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import urlsplit

from syncloom.simulators.d365.wire import ODataRequest, ODataResponse, error

MAX_OPERATIONS = 5000
Dispatch = Callable[[ODataRequest], ODataResponse]


class BatchError(ValueError):
    """A batch body that cannot be read (400)."""


@dataclass
class Operation:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    content_id: str | None = None


@dataclass
class Part:
    """An independent operation, or a changeset of several."""

    operations: list[Operation] = field(default_factory=list)
    changeset: bool = False


def boundary_of(content_type: str) -> str:
    match = re.search(r'boundary="?([^";]+)"?', content_type or "")
    if not match or not content_type.lower().startswith("multipart/mixed"):
        raise BatchError(
            "The content type of a batch request must be multipart/mixed with a boundary."
        )
    return match.group(1)


def _split(body: bytes, boundary: str) -> list[bytes]:
    text = body.replace(b"\r\n", b"\n")
    marker = b"--" + boundary.encode()
    if marker + b"--" not in text:
        raise BatchError(f"The batch end boundary '--{boundary}--' is missing.")
    chunks = text.split(marker)[1:]
    return [c[1:] if c.startswith(b"\n") else c for c in chunks if not c.startswith(b"--")]


def _headers_and_body(chunk: bytes) -> tuple[dict[str, str], bytes]:
    head, _, body = chunk.partition(b"\n\n")
    headers = {}
    for line in head.decode("utf-8", "replace").split("\n"):
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers, body


def _operation(chunk: bytes) -> Operation:
    mime, inner = _headers_and_body(chunk)
    if "application/http" not in mime.get("content-type", ""):
        raise BatchError("Each batch operation must have the content type application/http.")
    request_line, _, rest = inner.partition(b"\n")
    parts = request_line.decode().split()
    if len(parts) < 2:
        raise BatchError(
            f"The request line '{request_line.decode(errors='replace')}' is malformed."
        )
    headers, body = _headers_and_body(rest) if rest.strip() else ({}, b"")
    return Operation(
        parts[0].upper(), parts[1], headers, body.rstrip(b"\n"), mime.get("content-id")
    )


def parse(body: bytes, content_type: str) -> list[Part]:
    """Read a batch body into parts.

    Raises:
        BatchError: when the body is not a well-formed batch.
    """
    parts = []
    for chunk in _split(body, boundary_of(content_type)):
        mime, inner = _headers_and_body(chunk)
        if mime.get("content-type", "").startswith("multipart/mixed"):
            ops = [_operation(c) for c in _split(inner, boundary_of(mime["content-type"]))]
            parts.append(Part(ops, changeset=True))
        elif chunk.strip():
            parts.append(Part([_operation(chunk)]))
    return parts


def inner_target(url: str) -> tuple[str, str]:
    """(path below /data/, query) of an absolute, root-relative or service-relative URL."""
    split = urlsplit(url)
    path = split.path
    if "/data/" in path:
        path = path.split("/data/", 1)[1]
    return path.lstrip("/"), split.query


def render_response(response: ODataResponse, content_id: str | None) -> bytes:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        lines.append(f"Content-ID: {content_id}")
    reason = HTTPStatus(response.status).phrase
    lines += ["", f"HTTP/1.1 {response.status} {reason}"]
    lines += [f"{k}: {v}" for k, v in response.headers.items()]
    lines += ["OData-Version: 4.0", ""]
    return "\r\n".join(lines).encode() + b"\r\n" + response.body + b"\r\n"


def render(parts: list[tuple[Part, list[ODataResponse]]]) -> tuple[bytes, str]:
    """The multipart body of a batch response and its content type."""
    outer = f"batchresponse_{uuid.uuid4()}"
    chunks = []
    for part, responses in parts:
        if not part.changeset:
            chunks.append(render_response(responses[0], part.operations[0].content_id))
            continue
        inner = f"changesetresponse_{uuid.uuid4()}"
        body = b"".join(
            f"--{inner}\r\n".encode() + render_response(r, op.content_id)
            for r, op in zip(responses, part.operations, strict=False)
        )
        chunks.append(
            f"Content-Type: multipart/mixed; boundary={inner}\r\n\r\n".encode()
            + body
            + f"--{inner}--\r\n".encode()
        )
    payload = b"".join(f"--{outer}\r\n".encode() + c for c in chunks) + f"--{outer}--\r\n".encode()
    return payload, f"multipart/mixed; boundary={outer}"


def too_many(count: int) -> ODataResponse:
    return error(
        400,
        f"The current batch message contains too many operations ({count}). "
        f"A batch message may contain at most {MAX_OPERATIONS} operations.",
    )
