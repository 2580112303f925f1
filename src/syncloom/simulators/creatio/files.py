"""Files: Creatio's file services for ``…File`` objects (``AccountFile`` and the like).

A client first creates the file record through OData (``Name``, ``AccountId``, ``Size``,
``TotalSize``, ``TypeId``), then sends the bytes to
``POST {root}/0/rest/FileApiService/UploadFile?fileId=…&entitySchemaName=…`` with a
``Content-Range`` header, and reads them back from
``GET {root}/0/rest/FileService/Download/{schema}/{id}`` as an attachment.
"""

from __future__ import annotations

import base64
import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from syncloom.simulators.common.store import SimStore
from syncloom.simulators.creatio.entities import ENTITIES

CONTENT_TABLE = "_FileContent"
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


def _failure(message: str, status: int = 200) -> Response:
    # Creatio reports upload problems in the body; the HTTP status stays 200 for most.
    return JSONResponse({"success": False, "errorInfo": {"message": message}}, status)


class FileShelf:
    """Stores file contents beside the file records."""

    def __init__(self, store: SimStore) -> None:
        self.store = store

    async def upload(self, request: Request) -> Response:
        params = request.query_params
        schema, file_id = params.get("entitySchemaName", ""), params.get("fileId", "").lower()
        if not schema.endswith("File") or schema not in ENTITIES:
            return _failure(f"Schema '{schema}' is not a file schema.", 400)
        if self.store.table(schema).get(file_id) is None:
            return _failure(f"File record {file_id} not found in {schema}.", 404)
        chunk = await request.body()
        match = _RANGE.match(request.headers.get("content-range", ""))
        start = int(match.group(1)) if match else 0
        key = f"{schema}:{file_id}"
        held = self.store.get(CONTENT_TABLE, key)
        content = base64.b64decode(held["content"]) if held else b""
        if start != len(content):
            return _failure(f"Chunk starts at {start}, expected {len(content)}.", 400)
        content += chunk
        self.store.put(CONTENT_TABLE, key, {"content": base64.b64encode(content).decode()})
        return JSONResponse({"success": True, "fileId": file_id})

    async def download(self, request: Request) -> Response:
        schema = request.path_params["schema"]
        file_id = str(request.path_params["file_id"]).lower()
        row = self.store.table(schema).get(file_id) if schema in ENTITIES else None
        held = self.store.get(CONTENT_TABLE, f"{schema}:{file_id}")
        if row is None or held is None:
            return Response(b"", 404)
        name = str(row.get("Name") or "file").replace('"', "")
        return Response(
            base64.b64decode(held["content"]),
            200,
            {"Content-Disposition": f"attachment; filename={name}"},
            media_type="application/octet-stream",
        )
