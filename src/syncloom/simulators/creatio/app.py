"""CreatioSimulator: a local Creatio site's integration surface.

Forms login at ``/ServiceModel/AuthService.svc/Login`` (cookies plus ``BPMCSRF``), OAuth 2.0
client credentials at ``/connect/token``, and the OData 4 service at ``/0/odata/`` (or
``/odata/`` in .NET Core mode) with ``$metadata``, ``$batch`` and Creatio's literal and error
rules. Test-only extras under ``/_sim/``: webhook registration (standing in for a business
process that calls a web service on every write) and session controls.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from syncloom.simulators.common.app import ADMIN_PREFIX, Simulator
from syncloom.simulators.common.faults import FaultPlan
from syncloom.simulators.common.store import SimStore
from syncloom.simulators.creatio import batch
from syncloom.simulators.creatio.auth import (
    INTEGRATION_CONTACT,
    LOGIN_PAGE,
    SUPERVISOR_CONTACT,
    Caller,
    Gatekeeper,
    Refusal,
    login_redirect,
    user_name_cookie,
)
from syncloom.simulators.creatio.files import FileShelf
from syncloom.simulators.creatio.merge import merge
from syncloom.simulators.creatio.metadata import csdl, service_document
from syncloom.simulators.creatio.odata import Call, ODataService
from syncloom.simulators.creatio.replies import ODATA_HEADERS, ODataError, Reply, envelope
from syncloom.simulators.creatio.seeding import Seeder
from syncloom.simulators.creatio.webhooks import Notifier
from syncloom.simulators.creatio.writes import RowWriter

LOGIN_FAILED = "Invalid username or password"


class CreatioSimulator(Simulator):
    """A Creatio site (cloud, .NET Framework layout by default)."""

    name = "creatio"

    def __init__(
        self,
        *,
        seed: int = 1,
        records: int = 50,
        faults: FaultPlan | None = None,
        store_path: str | None = None,
        netcore: bool = False,
        unauth_mode: str = "401",
        csrf_on_get: bool = False,
        session_idle_s: float = 3600,
        token_lifetime_s: int = 3600,
        max_rows: int = 20_000,
        form_patch: bool = True,
        unknown_set_status: int = 404,
        enforce_required: bool = True,
        users: dict[str, tuple[str, str]] | None = None,
        clients: dict[str, tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(seed=seed, records=records, faults=faults, store_path=store_path)
        self.netcore = netcore
        self.unauth_mode = unauth_mode
        self.prefix = "/odata/" if netcore else "/0/odata/"
        self.gate = Gatekeeper(
            self.clock,
            users=users or {"Supervisor": ("Supervisor", SUPERVISOR_CONTACT)},
            clients=clients or {"sim-client": ("sim-secret", INTEGRATION_CONTACT)},
            idle_s=session_idle_s,
            token_lifetime_s=token_lifetime_s,
            csrf_on_get=csrf_on_get,
        )
        self.notifier = Notifier(self.clock)
        self.store = SimStore(store_path)
        self.writer = RowWriter(
            self.store, self.clock, self.notifier.emit, enforce_required=enforce_required
        )
        self.odata = ODataService(
            self.store,
            self.writer,
            max_rows=max_rows,
            unknown_set_status=unknown_set_status,
            form_patch=form_patch,
        )
        self.files = FileShelf(self.store)
        if self.store.is_empty():
            Seeder(self.store, seed, records, persist=store_path is not None).run()

    # -- Simulator hooks ------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        odata = self.prefix.rstrip("/")
        other = "/0" if self.netcore else ""
        rest = "/rest" if self.netcore else "/0/rest"
        return [
            Route("/ServiceModel/AuthService.svc/Login", self.login, methods=["POST"]),
            Route("/0/ServiceModel/AuthService.svc/Login", _unauthorized, methods=["POST"]),
            Route("/connect/token", self.token, methods=["POST"]),
            Route("/.well-known/openid-configuration", self.discovery, methods=["GET"]),
            Route("/Login/NuiLogin.aspx", _login_page, methods=["GET"]),
            Route("/0/Login/NuiLogin.aspx", _login_page, methods=["GET"]),
            Route("/Login/Login.html", _login_page, methods=["GET"]),
            Route("/0/ping", _ok, methods=["GET"]),
            Route(f"{'' if self.netcore else '/0'}/api/HealthCheck/Ping", _ok, methods=["GET"]),
            Route(f"{other}/api/HealthCheck/Ping", _not_found, methods=["GET"]),
            Route(odata, self.handle, methods=_ALL),
            Route(odata + "/{path:path}", self.handle, methods=_ALL),
            Route(f"{rest}/FileApiService/UploadFile", self.upload, methods=["POST"]),
            Route(f"{rest}/FileService/Download/{{schema}}/{{file_id}}", self.download),
            Route(ADMIN_PREFIX + "webhooks", self.webhooks, methods=["GET", "POST", "DELETE"]),
            Route(ADMIN_PREFIX + "sessions", self.sessions, methods=["POST"]),
            Route(ADMIN_PREFIX + "merge", self.merge, methods=["POST"]),
        ]

    def throttle_response(self, retry_after_s: int) -> Response:
        body = envelope("Too many requests.", "The request rate limit was exceeded.")
        return JSONResponse(body, 429, {"Retry-After": str(retry_after_s)})

    def error_response(self, status: int) -> Response:
        if status == 500:
            return JSONResponse(envelope("An error has occurred."), 500)
        return HTMLResponse(
            f"<html><body><h1>{status} Service Unavailable</h1></body></html>", status
        )

    def reset(self) -> None:
        self.store.clear()
        Seeder(self.store, self.seed, self.records, persist=self.store_path is not None).run()
        self.gate.clear()
        self.notifier.clear()

    def dump(self) -> object:
        return self.store.dump()

    def counters(self) -> dict[str, object]:
        return {
            "auth": dict(self.gate.counts),
            "sessions": len(self.gate.logins),
            "tokens_live": len(self.gate.tokens),
            "webhooks": dict(self.notifier.counts),
            "rows": {name: len(self.store.table(name)) for name in sorted(self.store.dump())},
        }

    # -- authentication -------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            user, password = str(body["UserName"]), str(body["UserPassword"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"Message": "The request is invalid."}, 400)
        issued = self.gate.login(user, password)
        if issued is None:
            return JSONResponse(_login_body(1, LOGIN_FAILED, {"Message": LOGIN_FAILED}))
        ticket, login = issued
        response = JSONResponse(_login_body(0, "", None))
        response.set_cookie("BPMLOADER", ticket[:24].lower(), path="/", httponly=True)
        response.set_cookie(".ASPXAUTH", ticket, path="/", httponly=True)
        response.set_cookie("BPMCSRF", login.csrf, path="/", httponly=False)
        response.set_cookie(
            "UserName", user_name_cookie(user), path="/", httponly=True, max_age=30 * 86400
        )
        response.set_cookie("UserType", "General", path="/", httponly=False)
        return response

    async def token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        issued = self.gate.issue_token(form.get("client_id", ""), form.get("client_secret", ""))
        if issued is None:
            return JSONResponse({"error": "invalid_client"}, 400)
        value, _ = issued
        return JSONResponse(
            {
                "access_token": value,
                "expires_in": self.gate.token_lifetime_s,
                "token_type": "Bearer",
            },
            headers={"Cache-Control": "no-store"},
        )

    async def discovery(self, request: Request) -> Response:
        root = str(request.base_url).rstrip("/")
        return JSONResponse({"issuer": root, "token_endpoint": f"{root}/connect/token"})

    def _refused(self, request: Request, refusal: Refusal) -> Response:
        bearer = "authorization" in request.headers
        if refusal.status == 401 and self.unauth_mode == "redirect" and not bearer:
            target = login_redirect(request.url.path, netcore=self.netcore)
            return RedirectResponse(target, 302)
        return Response(b"", refusal.status)

    # -- OData ----------------------------------------------------------------------------
    async def handle(self, request: Request) -> Response:
        verdict = self.gate.check(request)
        if isinstance(verdict, Refusal):
            return self._refused(request, verdict)
        body = await request.body()
        if len(body) > self.max_body_bytes:
            return JSONResponse(envelope("The request body is too large."), 413)
        path = request.path_params.get("path", "")
        root = str(request.base_url).rstrip("/")
        call = Call(
            verdict,
            root,
            self.prefix,
            request.method,
            path,
            request.url.query,
            body,
            request.headers.get("content-type", ""),
        )
        if path == "$metadata":
            return Response(csdl(), 200, ODATA_HEADERS, media_type="application/xml")
        if path == "":
            return _reply(Reply(200, service_document(call.service)))
        if path == "$batch" and request.method == "POST":
            return self._batch(request, call)
        return _reply(self.odata.dispatch(call))

    def _batch(self, request: Request, call: Call) -> Response:
        try:
            if call.content_type.startswith("multipart/"):
                parts = batch.parse_multipart(call.body, call.content_type)
            else:
                parts = batch.parse_json(call.body)
            keep_going = batch.wants_continue(request.headers.get("prefer", ""), parts)
            outcomes = batch.run(self.odata, call, parts, keep_going)
        except ODataError as exc:
            return _reply(Reply.from_error(exc))
        accept = request.headers.get("accept", "")
        if call.content_type.startswith("multipart/") and "application/json" not in accept:
            payload, media = batch.render_multipart(outcomes)
            return Response(payload, 200, ODATA_HEADERS, media_type=media)
        return _reply(Reply(200, batch.render_json(outcomes)))

    # -- files ----------------------------------------------------------------------------
    async def upload(self, request: Request) -> Response:
        verdict = self.gate.check(request)
        if isinstance(verdict, Refusal):
            return self._refused(request, verdict)
        return await self.files.upload(request)

    async def download(self, request: Request) -> Response:
        verdict = self.gate.check(request)
        if isinstance(verdict, Refusal):
            return self._refused(request, verdict)
        return await self.files.download(request)

    # -- test-only controls ---------------------------------------------------------------
    async def webhooks(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse([s.public() for s in self.notifier.subscriptions.values()])
        if request.method == "DELETE":
            self.notifier.clear()
            return JSONResponse({"cleared": True})
        try:
            body = json.loads(await request.body())
            url, secret = str(body["url"]), str(body["secret"])
            entities = [str(e) for e in body.get("entities") or []]
        except (ValueError, KeyError, TypeError, AttributeError):
            return JSONResponse({"error": 'expected {"url", "secret", "entities"?}'}, 400)
        return JSONResponse(self.notifier.register(url, secret, entities).public(), 201)

    async def merge(self, request: Request) -> Response:
        """``{"entity", "survivor", "duplicates": [...]}``: a user merges duplicates."""
        try:
            body = json.loads(await request.body())
            entity, survivor = str(body["entity"]), str(body["survivor"]).lower()
            duplicates = [str(d).lower() for d in body["duplicates"]]
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": 'expected {"entity", "survivor", "duplicates"}'}, 400)
        caller = Caller("Supervisor", SUPERVISOR_CONTACT, "cookie")
        try:
            row = merge(self.writer, entity, survivor, duplicates, caller)
        except ODataError as exc:
            return JSONResponse({"error": str(exc)}, exc.status)
        return JSONResponse({"survivor": row["Id"], "merged": duplicates})

    async def sessions(self, request: Request) -> Response:
        """``{"expire": true}`` drops every login and token; ``{"deny": n}`` 403s n calls."""
        try:
            body: dict[str, Any] = json.loads(await request.body() or b"{}")
            if body.get("expire"):
                self.gate.clear()
            self.gate.deny_next = int(body.get("deny", self.gate.deny_next))
        except (ValueError, TypeError, AttributeError):
            return JSONResponse({"error": 'expected {"expire": bool, "deny": int}'}, 400)
        return JSONResponse({"sessions": len(self.gate.logins), "deny": self.gate.deny_next})


_ALL = ["GET", "POST", "PATCH", "PUT", "DELETE", "MERGE"]


def _login_body(code: int, message: str, exception: dict[str, str] | None) -> dict[str, Any]:
    return {
        "Code": code,
        "Message": message,
        "Exception": exception,
        "PasswordChangeUrl": None,
        "RedirectUrl": None,
    }


def _reply(reply: Reply) -> Response:
    headers = {**ODATA_HEADERS, **reply.headers}
    return Response(reply.content(), reply.status, headers, media_type=reply.content_type)


async def _unauthorized(request: Request) -> Response:
    return Response(b"", 401)


async def _login_page(request: Request) -> Response:
    return HTMLResponse(LOGIN_PAGE)


async def _ok(request: Request) -> Response:
    return Response(b"", 200)


async def _not_found(request: Request) -> Response:
    return Response(b"", 404)
