"""Batches: ``$batch`` request bodies (one changeset per operation) and their answers.

Each operation goes in a changeset of its own, so one failure costs only that operation:
F&O answers a failed changeset with a single error part and commits the others. Inner
request lines are absolute URLs; parts are matched back by ``Content-ID``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from syncloom.connectors.d365.errors import Answer

MAX_OPERATIONS = 5000


@dataclass(frozen=True)
class Request:
    """One inner request."""

    method: str
    url: str
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


def build(requests: list[Request]) -> tuple[bytes, str]:
    """The multipart body and content type of a batch, one changeset per request."""
    outer = f"batch_{uuid.uuid4()}"
    chunks = []
    for number, request in enumerate(requests, start=1):
        changeset = f"changeset_{uuid.uuid4()}"
        head = [f"{request.method} {request.url} HTTP/1.1", "OData-Version: 4.0",
                "Accept: application/json"]  # fmt: skip
        if request.body:
            head.append("Content-Type: application/json")
        head += [f"{k}: {v}" for k, v in request.headers]
        part = (
            (
                f"--{changeset}\r\nContent-Type: application/http\r\n"
                f"Content-Transfer-Encoding: binary\r\nContent-ID: {number}\r\n\r\n"
                + "\r\n".join(head)
                + "\r\n\r\n"
            ).encode()
            + request.body
            + f"\r\n--{changeset}--\r\n".encode()
        )
        chunks.append(
            f"--{outer}\r\nContent-Type: multipart/mixed; boundary={changeset}\r\n\r\n".encode()
            + part
        )
    body = b"".join(chunks) + f"--{outer}--\r\n".encode()
    return body, f"multipart/mixed; boundary={outer}"


def _boundary(content_type: str) -> str | None:
    match = re.search(r'boundary="?([^";\s]+)"?', content_type)
    return match.group(1) if match else None


def _parts(body: bytes, boundary: str) -> list[bytes]:
    text = body.replace(b"\r\n", b"\n")
    pieces = text.split(b"--" + boundary.encode())[1:]
    return [p.lstrip(b"\n") for p in pieces if not p.startswith(b"--")]


def _head(chunk: bytes) -> tuple[dict[str, str], bytes]:
    head, _, rest = chunk.partition(b"\n\n")
    headers = {}
    for line in head.decode("utf-8", "replace").split("\n")[0:]:
        name, sep, value = line.partition(":")
        if sep and " " not in name.strip():
            headers[name.strip().lower()] = value.strip()
    return headers, rest


def _answer(chunk: bytes) -> tuple[str | None, Answer]:
    mime, http = _head(chunk)
    status_line, _, rest = http.partition(b"\n")
    fields = status_line.decode("utf-8", "replace").split()
    status = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 500
    headers, body = _head(rest) if rest.strip() else ({}, b"")
    return mime.get("content-id"), Answer(status, headers, body.rstrip(b"\n"))


def parse(body: bytes, content_type: str) -> list[tuple[str | None, Answer]]:
    """Every operation answer of a batch response, in order, with its Content-ID.

    A failed changeset yields its single error part.
    """
    boundary = _boundary(content_type)
    if boundary is None:
        return []
    answers: list[tuple[str | None, Answer]] = []
    for chunk in _parts(body, boundary):
        mime, inner = _head(chunk)
        nested = _boundary(mime.get("content-type", ""))
        if mime.get("content-type", "").startswith("multipart/mixed") and nested:
            answers.extend(_answer(c) for c in _parts(inner, nested))
        elif chunk.strip():
            answers.append(_answer(chunk))
    return answers
