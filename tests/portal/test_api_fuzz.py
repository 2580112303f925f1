"""Fuzz every operation of the OpenAPI document: no input may make the portal answer 5xx.

Hypothesis draws path parameters, query parameters and JSON bodies (shaped after each
operation's schema, or arbitrary) and sends them with an admin's token; the test client
re-raises any server error, so a crash fails the test with its traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncloom.portal import PortalDeps, create_app
from syncloom.portal.routes import PAGE_ROUTERS
from syncloom.store import Accounts, ConfigVersions, make_engine, session_factory
from syncloom.store.models import DeadLetter
from syncloom.vault import Keyring, MasterKey, Vault
from tests.portal.fixtures import World, build_world, seed_database, sign_in

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["", "flows", "accounts", "2026-01-01T00:00:00Z", "email", "slack", "admin"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
PATH_VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(min_size=1, max_size=30).filter(lambda t: t.strip() not in ("", ".", "..")),
    st.sampled_from(["1", "2", "flows", "accounts"]),
)


class Fuzzer:
    """Holds the app, a world with some data, and a live admin token."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.client = TestClient(create_app(world.deps))
        self.spec = self.client.app.openapi()  # type: ignore[attr-defined]
        self.headers: dict[str, str] = {}
        self.renew_token()

    def renew_token(self) -> None:
        with self.world.sessions.begin() as session:
            issued = Accounts(session).issue_token(
                self.world.acme, "fuzz", user_id=self.world.users["admin"]
            )
            self.headers = {"Authorization": f"Bearer {issued.reveal()}"}

    def operations(self) -> list[tuple[str, str]]:
        return [(m.upper(), p) for p, ops in self.spec["paths"].items() for m in ops]

    def body_strategy(self, operation: dict[str, Any]) -> st.SearchStrategy[Any]:
        content = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if content is None:
            return st.none()
        schema = content["schema"]
        if "$ref" in schema:
            schema = self.spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        properties = schema.get("properties", {})
        shaped = st.fixed_dictionaries({}, optional={name: JSON for name in properties})
        return st.one_of(shaped, shaped, JSON)


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzer]:
    folder = tmp_path_factory.mktemp("fuzz")
    ids = seed_database(folder / "template.db")
    world = build_world(folder, folder / "template.db", ids)
    with world.sessions.begin() as session:
        flows = (
            "flows:\n  - name: accounts\n    source: {connection: c, entity: A}\n"
            "    target: {connection: e, entity: B}\n"
        )
        ConfigVersions(session).save(world.acme, "flows", flows, author="seed")
        session.add(
            DeadLetter(
                tenant_id=world.acme,
                flow="accounts",
                record_key="k",
                error_class="E",
                error_text="t",
            )
        )
    fuzz = Fuzzer(world)
    with fuzz.client:
        yield fuzz


def spec_operations() -> list[tuple[str, str]]:
    # Building the app reads no database, so the operations are known at collection time.
    deps = PortalDeps(
        sessions=session_factory(make_engine("sqlite://")),
        vault=Vault(Keyring(current=MasterKey.generate())),
    )
    spec = create_app(deps).openapi()
    return [(m.upper(), p) for p, ops in spec["paths"].items() for m in ops]


def fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


@pytest.mark.parametrize(("method", "path"), spec_operations())
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_no_input_makes_a_5xx(fuzzer: Fuzzer, method: str, path: str, data: st.DataObject) -> None:
    operation = fuzzer.spec["paths"][path][method.lower()]
    parameters = operation.get("parameters", [])
    path_values = {
        p["name"]: data.draw(PATH_VALUES, label=p["name"]) for p in parameters if p["in"] == "path"
    }
    query = {
        p["name"]: data.draw(SCALARS.map(str), label=p["name"])
        for p in parameters
        if p["in"] == "query" and data.draw(st.booleans())
    }
    body = data.draw(fuzzer.body_strategy(operation), label="body")
    kwargs: dict[str, Any] = {"params": query, "headers": fuzzer.headers}
    if body is not None:
        kwargs["json"] = body
    response = fuzzer.client.request(method, fill(path, path_values), **kwargs)
    if response.status_code == 401:
        fuzzer.renew_token()  # the fuzz revoked its own token or removed its own membership
    assert response.status_code < 500, response.text


FORM_FIELDS = [
    "name",
    "system",
    "environment",
    "base_url",
    "credentials",
    "overrides",
    "ids",
    "to_version",
    "document",
    "comment",
    "direction",
    "conflict",
    "delete",
    "schedule_cron",
    "schedule_timezone",
    "fields-0-source",
    "fields-0-target",
    "fields-0-direction",
    "fields-0-transform",
    "fields-0-value_map",
    "sample",
    "enabled",
    "since",
    "kind",
    "flow",
    "threshold",
    "window_min",
    "minutes",
    "channel",
    "target",
    "email",
    "role",
    "password",
    "slug",
    "tenant_name",
    "token_name",
    "tenant_id",
    "status",
    "from",
    "to",
]


def page_operations() -> list[tuple[str, str]]:
    found = []
    for router in PAGE_ROUTERS:
        for route in router.routes:
            methods = sorted(route.methods - {"HEAD"})  # type: ignore[attr-defined]
            found += [(m, route.path) for m in methods if route.path not in ("/logout", "/login")]  # type: ignore[attr-defined]
    return found


@pytest.fixture(scope="module")
def signed_in(fuzzer: Fuzzer) -> tuple[TestClient, str]:
    client = TestClient(create_app(fuzzer.world.deps))
    return client, sign_in(client, "admin@acme.test")


@pytest.mark.parametrize(("method", "path"), page_operations())
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_no_form_makes_a_page_fail(
    signed_in: tuple[TestClient, str], method: str, path: str, data: st.DataObject
) -> None:
    client, csrf = signed_in
    names = re.findall(r"\{(\w+)\}", path)
    target = fill(path, {n: data.draw(PATH_VALUES, label=n) for n in names})
    values = st.one_of(SCALARS.map(lambda v: "" if v is None else str(v)), st.text(max_size=200))
    form = data.draw(
        st.dictionaries(st.sampled_from(FORM_FIELDS), values, max_size=8), label="form"
    )
    if method == "GET":
        response = client.get(target, params=form, follow_redirects=False)
    else:
        response = client.post(target, data={**form, "csrf_token": csrf}, follow_redirects=False)
    assert response.status_code < 500, response.text
