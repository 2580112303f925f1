"""D365Simulator: a local F&O environment (OData v4 at ``/data/``) and its Entra ID, over TLS.

Example::

    sim = D365Simulator(seed=1, records=50)
    certs = make_certificates()
    with SimulatorServer(sim, certfile=str(certs.cert_file), keyfile=str(certs.key_file)) as s:
        ...  # authority f"{s.base_url}/simtenant", scope f"{s.base_url}/.default"

The environment URL (token audience, ``@odata.context``, ``nextLink``) is ``public_url`` when
given, else learnt from each request's ``Host`` header, so port 0 works.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from syncloom.simulators.common.app import ADMIN_PREFIX, Simulator
from syncloom.simulators.common.faults import FaultPlan
from syncloom.simulators.common.store import SimStore
from syncloom.simulators.d365 import edm, seeding
from syncloom.simulators.d365 import events as ev
from syncloom.simulators.d365.actions import ActionError, Actions
from syncloom.simulators.d365.aging import ager
from syncloom.simulators.d365.auth import AppUser, Caller, TokenService, form_of
from syncloom.simulators.d365.entities import SETS, EntitySet
from syncloom.simulators.d365.fulfilment import Fulfilment
from syncloom.simulators.d365.reads import MAX_PAGE, Reader
from syncloom.simulators.d365.rows import Row
from syncloom.simulators.d365.service import ODataService
from syncloom.simulators.d365.throttle import Throttle, too_many
from syncloom.simulators.d365.wire import ODataRequest, ODataResponse, activity_id, error
from syncloom.simulators.d365.writes import Writer


class D365Simulator(Simulator):
    """Dynamics 365 F&O and Entra ID in one ASGI app."""

    name = "d365"
    needs_tls = True
    max_body_bytes = 64 * 1024 * 1024

    def __init__(
        self,
        *,
        seed: int = 1,
        records: int = 50,
        faults: FaultPlan | None = None,
        store_path: str | None = None,
        tenant: str = "simtenant",
        client_id: str = "sim-client",
        client_secret: str = "sim-secret",
        default_company: str = "usmf",
        public_url: str | None = None,
        token_lifetime_s: int = 3599,
        page_size: int = MAX_PAGE,
    ) -> None:
        super().__init__(seed=seed, records=records, faults=faults, store_path=store_path)
        self.public_url = public_url.rstrip("/").lower() if public_url else None
        self.tokens = TokenService(
            tenant,
            [AppUser(client_id, client_secret, default_company=default_company)],
            self.clock,
            token_lifetime_s,
            seed,
        )
        self.store = SimStore(store_path)
        self.events = ev.BusinessEvents(self.clock, seed)
        self.throttle = Throttle(self.clock)
        self.writer = Writer(self.store, self.clock, self._changed)
        self.reader = Reader(self.store, page_size, refresh=ager(self.clock.now))
        self.service = ODataService(self.reader, self.writer, self._gate, self.events.hold)
        self.actions = Actions(self.store, self.writer, self.events)
        self.fulfilment = Fulfilment(self.store, self.writer, self.events)
        if self.store.is_empty():
            self._seed()

    # -- state ------------------------------------------------------------------------------
    def _seed(self) -> None:
        rows = [
            *seeding.reference_rows(),
            *seeding.world_rows(self.seed, self.records, self.clock.now()),
        ]
        for set_name, row in rows:
            self.writer.seed(SETS[set_name], row)

    def reset(self) -> None:
        self.store.clear()
        self.events.reset()
        self.throttle.reset()
        self.writer.strict_nulls, self.writer.check_etags = False, True
        self._seed()

    def dump(self) -> object:
        return self.store.dump()

    def counters(self) -> dict[str, object]:
        return {
            "tokens_issued": self.tokens.issued,
            "events_delivered": len(self.events.delivered),
            "events_failed": self.events.failed,
            "throttled": self.throttle.throttled,
            "rows": {name: len(rows) for name, rows in self.store.dump().items()},
        }

    def _changed(self, entity: EntitySet, row: Row, kind: str) -> None:
        # Custom event from an extension, so the engine can react to customer edits at once.
        if entity.name == "CustomersV3":
            self.events.raise_event(ev.CUSTOMER_CHANGED, row["dataAreaId"], {
                "CustomerAccount": row["CustomerAccount"], "ChangeType": kind.capitalize(),
            })  # fmt: skip

    # -- vendor hooks ---------------------------------------------------------------------------
    def throttle_response(self, retry_after_s: int) -> Response:
        return _starlette(
            too_many(
                "Number of requests exceeded the limit of 6000 over the time window of "
                "300 seconds.",
                retry_after_s,
            )
        )

    def error_response(self, status: int) -> Response:
        text = "An error has occurred." if status == 500 else "The service is unavailable."
        headers = {"Retry-After": str(self.faults.retry_after_s)} if status == 503 else {}
        return _starlette(error(status, text, **headers))

    def routes(self) -> list[BaseRoute]:
        tenant = "/{tenant}"
        return [
            Route(
                tenant + "/v2.0/.well-known/openid-configuration", self.discovery, methods=["GET"]
            ),
            Route(tenant + "/.well-known/openid-configuration", self.discovery, methods=["GET"]),
            Route(tenant + "/oauth2/v2.0/token", self.token_v2, methods=["POST"]),
            Route(tenant + "/oauth2/token", self.token_v1, methods=["POST"]),
            Route("/data", self.data, methods=["GET"]),
            Route(
                "/data/{path:path}",
                self.data,
                methods=["GET", "POST", "PATCH", "PUT", "DELETE", "MERGE"],
            ),
            Route("/Metadata/DataEntities", self.data_entities, methods=["GET"]),
            Route(
                ADMIN_PREFIX + "business-events",
                self.business_events,
                methods=["GET", "POST", "DELETE"],
            ),
            Route(ADMIN_PREFIX + "actions/{action}", self.action, methods=["POST"]),
            Route(ADMIN_PREFIX + "throttling", self.throttling, methods=["POST"]),
            Route(ADMIN_PREFIX + "config", self.config, methods=["POST"]),
        ]

    # -- Entra ID -----------------------------------------------------------------------------
    def base_url(self, request: Request) -> str:
        if self.public_url:
            return self.public_url
        host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
        return f"{request.url.scheme}://{host}".lower()

    async def discovery(self, request: Request) -> Response:
        if request.path_params["tenant"] != self.tokens.tenant:
            return _tenant_not_found(request.path_params["tenant"])
        return JSONResponse(self.tokens.discovery(self.base_url(request)))

    async def token_v2(self, request: Request) -> Response:
        return await self._token(request, v1=False)

    async def token_v1(self, request: Request) -> Response:
        return await self._token(request, v1=True)

    async def _token(self, request: Request, *, v1: bool) -> Response:
        if request.path_params["tenant"] != self.tokens.tenant:
            return _tenant_not_found(request.path_params["tenant"])
        status, body = self.tokens.grant(await form_of(request), self.base_url(request), v1)
        return JSONResponse(body, status, {"Cache-Control": "no-store, no-cache"})

    # -- F&O -----------------------------------------------------------------------------------
    async def data(self, request: Request) -> Response:
        caller = self.tokens.check(request.headers.get("authorization"), self.base_url(request))
        if isinstance(caller, Response):
            return caller
        odata = ODataRequest(
            request.method,
            request.path_params.get("path", ""),
            request.url.query,
            {k.lower(): v for k, v in request.headers.items()},
            await request.body(),
            self.base_url(request),
            caller,
        )
        blocked = self.throttle.check(caller.user)
        return _starlette(blocked or self.service.handle(odata))

    def _gate(self, request: ODataRequest) -> ODataResponse | None:
        return self.throttle.check(request.caller.user)

    async def data_entities(self, request: Request) -> Response:
        caller = self.tokens.check(request.headers.get("authorization"), self.base_url(request))
        if not isinstance(caller, Caller):
            return caller
        rows = edm.data_entities()
        wanted = request.query_params.get("$filter", "")
        if " eq " in wanted:
            field, _, value = wanted.partition(" eq ")
            rows = [r for r in rows if str(r.get(field.strip())) == value.strip().strip("'")]
        context = f"{self.base_url(request)}/Metadata/$metadata#DataEntities"
        return JSONResponse({"@odata.context": context, "value": rows})

    # -- admin ----------------------------------------------------------------------------------
    async def business_events(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"endpoints": [e.url for e in self.events.endpoints],
                                 "delivered": self.events.delivered})  # fmt: skip
        if request.method == "DELETE":
            self.events.endpoints.clear()
            return JSONResponse({"endpoints": []})
        body = await _admin_body(request)
        if not isinstance(body, dict) or not body.get("url") or not body.get("secret"):
            return JSONResponse({"error": "url and secret are required"}, 400)
        endpoint = ev.Endpoint(
            str(body["url"]),
            str(body["secret"]),
            body.get("verify", True),
            tuple(body.get("events") or ()),
        )
        self.events.endpoints.append(endpoint)
        return JSONResponse({"registered": endpoint.url, "events": list(endpoint.events)}, 201)

    async def action(self, request: Request) -> Response:
        handlers = {
            "confirm-order": self.actions.confirm_order,
            "post-invoice": self.actions.post_invoice,
            "post-payment": self.actions.post_payment,
            "change-onhand": self.actions.change_on_hand,
            "ship-order": self.fulfilment.ship_order,
            "cancel-invoice": self.fulfilment.cancel_invoice,
        }
        handler = handlers.get(request.path_params["action"])
        body = await _admin_body(request)
        if handler is None or not isinstance(body, dict):
            return JSONResponse(
                {"error": f"unknown action or bad body; actions: {list(handlers)}"}, 400
            )
        try:
            return JSONResponse({"event": handler(body)})
        except ActionError as exc:
            return JSONResponse({"error": str(exc)}, 404 if "not found" in str(exc) else 400)

    async def throttling(self, request: Request) -> Response:
        body = await _admin_body(request)
        if not isinstance(body, dict):
            return JSONResponse({"error": "body must be a JSON object"}, 400)
        try:
            self.throttle.configure(body)
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(
            {"pressure": self.throttle.pressure, "request_limit": self.throttle.request_limit}
        )

    async def config(self, request: Request) -> Response:
        body = await _admin_body(request)
        if not isinstance(body, dict):
            return JSONResponse({"error": "body must be a JSON object"}, 400)
        self.writer.strict_nulls = bool(body.get("strict_nulls", self.writer.strict_nulls))
        self.writer.check_etags = bool(body.get("check_etags", self.writer.check_etags))
        if "page_size" in body:
            self.reader.page_size = max(1, min(int(body["page_size"]), MAX_PAGE))
        if "token_lifetime_s" in body:
            self.tokens.lifetime_s = int(body["token_lifetime_s"])
        return JSONResponse({"page_size": self.reader.page_size})


async def _admin_body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"{}")
    except ValueError:
        return None


def _tenant_not_found(tenant: str) -> Response:
    return JSONResponse(
        {
            "error": "invalid_tenant",
            "error_description": f"AADSTS90002: Tenant '{tenant}' not found.",
            "error_codes": [90002],
        },
        400,
    )


def _starlette(response: ODataResponse) -> Response:
    headers = {"OData-Version": "4.0", "ms-dyn-aid": activity_id(), **response.headers}
    media = headers.pop("Content-Type", None)
    if response.status == 204:
        return Response(status_code=204, headers=headers)
    return Response(response.body, response.status, headers, media_type=media)
