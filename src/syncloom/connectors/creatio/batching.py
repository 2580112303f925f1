"""Batching: writes sent as Creatio JSON ``$batch`` calls, one result per op.

At most 100 sub-requests per call (Creatio's limit). ``Prefer: continue-on-error`` is sent so
one refused op does not stop the others; each sub-response is translated on its own. Creates
carry the client-chosen ``Id``, so re-sending a batch after a lost answer cannot duplicate:
the repeated creates come back as AlreadyExistsError.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from syncloom.connectors.base import EntitySpec, Op, OpKind, OpResult, Record
from syncloom.connectors.creatio.client import CreatioClient, parse_json
from syncloom.connectors.creatio.entities import KEY_FIELD
from syncloom.connectors.creatio.errors import SYSTEM, SubReply, translate
from syncloom.connectors.creatio.values import encode_values
from syncloom.errors import NotFoundError, RemoteError, TransientError, ValidationError

MAX_BATCH = 100
ToRecord = Callable[[EntitySpec, Mapping[str, Any]], Record]


def _sub_request(op: Op, spec: EntitySpec, ident: str) -> dict[str, Any]:
    if op.kind is OpKind.CREATE:
        key = str(uuid.UUID(op.key)) if op.key else str(uuid.uuid4())
        body = {KEY_FIELD: key, **encode_values(spec, dict(op.values))}
        return {"id": ident, "method": "POST", "url": op.entity, "body": body}
    if not op.key:
        raise ValidationError(f"{op.kind} of {op.entity} needs a key", system=SYSTEM)
    url = f"{op.entity}({uuid.UUID(op.key)})"
    if op.kind is OpKind.UPDATE:
        return {
            "id": ident,
            "method": "PATCH",
            "url": url,
            "body": encode_values(spec, dict(op.values)),
        }
    return {"id": ident, "method": "DELETE", "url": url}


async def run_batch(
    client: CreatioClient,
    specs: Mapping[str, EntitySpec | RemoteError],
    ops: Sequence[Op],
    to_record: ToRecord,
) -> list[OpResult]:
    """Send ``ops`` in chunks of 100; never raises for a failed op."""
    results: list[OpResult] = []
    for start in range(0, len(ops), MAX_BATCH):
        results.extend(await _chunk(client, specs, ops[start : start + MAX_BATCH], to_record))
    return results


async def _chunk(
    client: CreatioClient,
    specs: Mapping[str, EntitySpec | RemoteError],
    ops: Sequence[Op],
    to_record: ToRecord,
) -> list[OpResult]:
    early: dict[int, RemoteError] = {}
    requests = []
    for n, op in enumerate(ops):
        spec = specs.get(op.entity)
        if not isinstance(spec, EntitySpec):
            early[n] = spec or NotFoundError(f"Creatio has no entity {op.entity!r}", system=SYSTEM)
            continue
        try:
            requests.append(_sub_request(op, spec, str(n)))
        except ValueError:
            early[n] = ValidationError(f"{op.key!r} is not a Creatio Id (a GUID)", system=SYSTEM)
        except RemoteError as exc:
            early[n] = exc
    replies = await _send(client, requests) if requests else {}
    return [_result(n, op, specs, early, replies, to_record) for n, op in enumerate(ops)]


async def _send(client: CreatioClient, requests: list[dict[str, Any]]) -> dict[str, Any]:
    try:
        response = await client.request(
            "POST",
            "$batch",
            body={"requests": requests},
            headers={"Prefer": "continue-on-error"},
        )
    except RemoteError as exc:  # the whole call failed: every op reports it
        return {r["id"]: exc for r in requests}
    if response.status_code != 200:
        error = translate(response)
        return {r["id"]: error for r in requests}
    return {str(item["id"]): item for item in parse_json(response)["responses"]}


def _result(
    n: int,
    op: Op,
    specs: Mapping[str, EntitySpec | RemoteError],
    early: Mapping[int, RemoteError],
    replies: Mapping[str, Any],
    to_record: ToRecord,
) -> OpResult:
    if n in early:
        return OpResult(op, error=early[n])
    reply = replies.get(str(n))
    record_key = f"{SYSTEM}:{op.entity}:{op.key}" if op.key else None
    if reply is None:
        error = TransientError("Creatio did not run this batch request", system=SYSTEM)
        return OpResult(op, error=error)
    if isinstance(reply, RemoteError):
        return OpResult(op, error=reply)
    status = int(reply["status"])
    if status >= 300:
        failure = SubReply(status, reply.get("body"), dict(reply.get("headers") or {}))
        return OpResult(op, error=translate(failure, record_key=record_key))
    record = None
    spec = specs[op.entity]
    if op.kind is OpKind.CREATE and isinstance(reply.get("body"), dict):
        assert isinstance(spec, EntitySpec)
        record = to_record(spec, reply["body"])
    return OpResult(op, record=record)
