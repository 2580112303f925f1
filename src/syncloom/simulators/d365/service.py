"""Service: routes one authenticated OData request below ``/data/`` to reads, writes or batch."""

from __future__ import annotations

import re
from collections.abc import Callable

from syncloom.simulators.d365 import batch, edm, queries
from syncloom.simulators.d365.entities import SETS
from syncloom.simulators.d365.reads import Reader
from syncloom.simulators.d365.wire import ODataRequest, ODataResponse, error
from syncloom.simulators.d365.writes import Writer

_SEGMENT = re.compile(r"^([A-Za-z_]\w*)(?:\((.*)\))?(?:/(.*))?$", re.DOTALL)
Gate = Callable[[ODataRequest], ODataResponse | None]


class ODataService:
    """Answers requests on the ``/data/`` endpoint."""

    def __init__(
        self, reader: Reader, writer: Writer, gate: Gate, hold: Callable[[bool | None], None]
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.gate = gate  # throttling, checked for every operation, batch parts included
        self.hold = hold  # hold(None) starts holding events; hold(True/False) commits/drops

    def handle(self, request: ODataRequest) -> ODataResponse:
        path = request.path
        if path in {"", "/"}:
            return ODataResponse.of_json(200, edm.service_document(request.base))
        if path == "$metadata":
            return ODataResponse(200, edm.metadata_document(), {"Content-Type": "application/xml"})
        if path == "$batch":
            return self.run_batch(request) if request.method == "POST" else _no_route(request)
        try:
            return self._entity_request(request)
        except queries.QueryError as exc:
            return error(400, str(exc))

    def _entity_request(self, request: ODataRequest) -> ODataResponse:
        match = _SEGMENT.match(request.path)
        entity = SETS.get(match.group(1)) if match else None
        if match is None or entity is None:
            return _no_route(request)
        key, tail = match.group(2), match.group(3) or ""
        method = request.method
        if key is None:
            if tail not in {"", "$count"}:
                return _no_route(request)
            if method == "GET":
                return self.reader.collection(entity, request, count_only=tail == "$count")
            if method == "POST" and not tail:
                return self.writer.create(entity, request)
            return _not_allowed(method)
        if method == "GET":
            return self.reader.single(entity, key, tail, request)
        if tail:
            return _not_allowed(method)
        if method in {"PATCH", "PUT", "MERGE"}:
            return self.writer.update(entity, key, request)
        if method == "DELETE":
            return self.writer.delete(entity, key, request)
        return _not_allowed(method)

    # -- $batch -----------------------------------------------------------------------------
    def run_batch(self, request: ODataRequest) -> ODataResponse:
        try:
            parts = batch.parse(request.body, request.headers.get("content-type", ""))
        except (batch.BatchError, UnicodeDecodeError) as exc:
            return error(400, str(exc))
        count = sum(len(p.operations) for p in parts)
        if count > batch.MAX_OPERATIONS:
            return batch.too_many(count)
        results = [(part, self._run_part(part, request)) for part in parts]
        body, content_type = batch.render(results)
        return ODataResponse(200, body, {"Content-Type": content_type})

    def _run_part(self, part: batch.Part, outer: ODataRequest) -> list[ODataResponse]:
        if not part.changeset:
            return [self._run_one(part.operations[0], outer, {})]
        self.writer.journal = []
        self.hold(None)
        created: dict[str, str] = {}
        responses = []
        try:
            for op in part.operations:
                response = self._run_one(op, outer, created)
                if response.status >= 400:
                    self.writer.rollback(self.writer.journal)
                    self.hold(False)
                    return [response]
                responses.append(response)
                if op.content_id and "Location" in response.headers:
                    created[op.content_id] = response.headers["Location"]
        finally:
            self.writer.journal = None
        self.hold(True)
        return responses

    def _run_one(
        self, op: batch.Operation, outer: ODataRequest, created: dict[str, str]
    ) -> ODataResponse:
        url = op.url
        if url.startswith("$") and url[1:].split("/")[0] in created:
            ref = url[1:].split("/")[0]
            url = created[ref] + url[1 + len(ref) :]
        path, query = batch.inner_target(url)
        inner = ODataRequest(op.method, path, query, op.headers, op.body, outer.base, outer.caller)
        blocked = self.gate(inner)
        if blocked is not None:
            return blocked
        if path == "$batch":
            return error(400, "A batch request cannot contain another batch request.")
        return self.handle(inner)


def _no_route(request: ODataRequest) -> ODataResponse:
    return error(
        404,
        "No HTTP resource was found that matches the request URI "
        f"'{request.base}/data/{request.path}'.",
    )


def _not_allowed(method: str) -> ODataResponse:
    return error(405, f"The requested resource does not support http method '{method}'.")
