"""Batch: ``POST {service}/$batch`` in the JSON and the multipart form.

Up to 100 sub-requests run in order through the same dispatcher as single calls. The first
4xx/5xx stops the rest unless ``Prefer: continue-on-error`` is on the outer request or on any
sub-request (Creatio's own example puts it on a sub-request). Requests sharing an
``atomicityGroup`` (or a multipart changeset) commit or roll back together; the answer names
the group by a server GUID.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from syncloom.simulators.creatio.odata import Call, ODataService
from syncloom.simulators.creatio.replies import ODataError, Reply

MAX_REQUESTS = 100
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


@dataclass
class Part:
    """One sub-request, whichever form it came in."""

    id: str
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    group: str | None = None


@dataclass
class Outcome:
    part: Part
    reply: Reply
    group_id: str | None = None


class _GroupFailedError(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def parse_json(body: bytes) -> list[Part]:
    try:
        payload = json.loads(body)
        requests = payload["requests"]
        return [
            Part(
                id=str(item.get("id", n)),
                method=str(item["method"]).upper(),
                url=str(item["url"]),
                headers={k.lower(): str(v) for k, v in (item.get("headers") or {}).items()},
                body=json.dumps(item["body"]).encode() if "body" in item else b"",
                group=item.get("atomicityGroup"),
            )
            for n, item in enumerate(requests, 1)
        ]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ODataError(
            400, "The batch request body is not valid.", "Malformed JSON batch."
        ) from None


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    parts: list[Part] = []
    for n, (headers, content) in enumerate(_split(body, content_type), 1):
        inner_type = headers.get("content-type", "")
        if inner_type.startswith("multipart/mixed"):
            group = f"changeset{n}"
            for m, (sub_headers, sub_content) in enumerate(_split(content, inner_type), 1):
                parts.append(
                    _http_part(sub_headers.get("content-id", f"{n}.{m}"), sub_content, group)
                )
        else:
            parts.append(_http_part(headers.get("content-id", str(n)), content, None))
    return parts


def _split(body: bytes, content_type: str) -> list[tuple[dict[str, str], bytes]]:
    match = _BOUNDARY.search(content_type)
    if not match:
        raise ODataError(400, "The batch request has no multipart boundary.")
    delimiter = b"--" + match.group(1).encode()
    out = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk.strip(b"\r\n").partition(b"\r\n\r\n")
        out.append((_headers(head), content))
    return out


def _headers(block: bytes) -> dict[str, str]:
    headers = {}
    for line in block.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


def _http_part(part_id: str, content: bytes, group: str | None) -> Part:
    head, _, body = content.partition(b"\r\n\r\n")
    request_line, _, header_block = head.decode("utf-8", "replace").partition("\r\n")
    pieces = request_line.split(" ")
    if len(pieces) < 2:
        raise ODataError(400, f"Bad request line in batch part: '{request_line}'.")
    return Part(
        part_id,
        pieces[0].upper(),
        pieces[1],
        _headers(header_block.encode()),
        body.rstrip(b"\r\n"),
        group,
    )


def wants_continue(outer: str, parts: list[Part]) -> bool:
    prefs = [outer, *(p.headers.get("prefer", "") for p in parts)]
    return any("continue-on-error" in p.lower() for p in prefs)


def run(service: ODataService, base: Call, parts: list[Part], keep_going: bool) -> list[Outcome]:
    """Run the parts in order, groups as units; stop at the first failure unless told not to."""
    if len(parts) > MAX_REQUESTS:
        raise ODataError(
            400, f"The batch contains {len(parts)} requests; at most {MAX_REQUESTS} are allowed."
        )
    outcomes: list[Outcome] = []
    index = 0
    while index < len(parts):
        group = parts[index].group
        members = [parts[index]] if group is None else _members(parts, index, group)
        done = (
            _run_group(service, base, members) if group else [_run_one(service, base, members[0])]
        )
        outcomes.extend(done)
        index += len(members)
        if not keep_going and any(o.reply.status >= 400 for o in done):
            break
    return outcomes


def _members(parts: list[Part], start: int, group: str) -> list[Part]:
    end = start
    while end < len(parts) and parts[end].group == group:
        end += 1
    return parts[start:end]


def _run_one(service: ODataService, base: Call, part: Part, group_id: str | None = None) -> Outcome:
    path, _, query = _relative(part.url, base).partition("?")
    call = Call(
        base.caller,
        base.root,
        base.prefix,
        part.method,
        path,
        query,
        part.body,
        part.headers.get("content-type", "application/json"),
    )
    return Outcome(part, service.dispatch(call), group_id)


def _run_group(service: ODataService, base: Call, members: list[Part]) -> list[Outcome]:
    group_id = str(uuid.uuid4())
    try:
        with service.writer.transaction():
            return _run_members(service, base, members, group_id)
    except _GroupFailedError as failed:
        return [Outcome(p, failed.reply, group_id) for p in members]


def _run_members(
    service: ODataService, base: Call, members: list[Part], group_id: str
) -> list[Outcome]:
    done = [_run_one(service, base, part, group_id) for part in members[:1]]
    for part in members[1:]:
        if done[-1].reply.status >= 400:
            break
        done.append(_run_one(service, base, part, group_id))
    if done[-1].reply.status >= 400:
        raise _GroupFailedError(done[-1].reply)
    return done


def _relative(url: str, base: Call) -> str:
    if url.startswith(("http://", "https://")):
        url = url.split(base.prefix, 1)[-1] if base.prefix in url else url.split("/", 3)[-1]
    elif url.startswith(base.prefix):
        url = url[len(base.prefix) :]
    return url.lstrip("/")


def render_json(outcomes: list[Outcome]) -> dict[str, Any]:
    responses = []
    for outcome in outcomes:
        reply = outcome.reply
        entry: dict[str, Any] = {"id": outcome.part.id}
        if outcome.group_id:
            entry["atomicityGroup"] = outcome.group_id
        headers = {k.lower(): v for k, v in reply.headers.items()}
        headers["odata-version"] = "4.0"
        if reply.status != 204:
            headers["content-type"] = reply.content_type
        entry.update(status=reply.status, headers=headers)
        if reply.status != 204:
            entry["body"] = reply.body if reply.raw is None else reply.raw.decode()
        responses.append(entry)
    return {"responses": responses}


def render_multipart(outcomes: list[Outcome]) -> tuple[bytes, str]:
    boundary = f"batchresponse_{uuid.uuid4()}"
    chunks: list[bytes] = []
    index = 0
    while index < len(outcomes):
        group = outcomes[index].group_id
        if group is None:
            chunks.append(_http_response(outcomes[index]))
            index += 1
            continue
        members = [o for o in outcomes[index:] if o.group_id == group]
        inner = f"changesetresponse_{uuid.uuid4()}"
        body = b"".join(f"--{inner}\r\n".encode() + _http_response(o) for o in members)
        body += f"--{inner}--\r\n".encode()
        chunks.append(f"Content-Type: multipart/mixed; boundary={inner}\r\n\r\n".encode() + body)
        index += len(members)
    payload = b"".join(f"--{boundary}\r\n".encode() + c for c in chunks)
    payload += f"--{boundary}--\r\n".encode()
    return payload, f"multipart/mixed; boundary={boundary}"


def _http_response(outcome: Outcome) -> bytes:
    reply = outcome.reply
    phrase = HTTPStatus(reply.status).phrase
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if outcome.group_id:
        lines.append(f"Content-ID: {outcome.part.id}")
    lines += ["", f"HTTP/1.1 {reply.status} {phrase}"]
    lines += [f"{k}: {v}" for k, v in reply.headers.items()]
    lines.append("OData-Version: 4.0")
    content = reply.content()
    if content:
        lines.append(f"Content-Type: {reply.content_type}")
    head = "\r\n".join(lines).encode() + b"\r\n\r\n"
    return head + content + b"\r\n"
