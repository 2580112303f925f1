from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from syncloom.portal import create_app
from syncloom.portal.control import DetachedEngine
from syncloom.portal.rendering import HERE
from syncloom.settings import Settings
from syncloom.simulators.common.server import SimulatorServer
from syncloom.store import Accounts, ConfigVersions, make_engine, session_factory, upgrade
from syncloom.store.models import RoleName
from tests.portal.fixtures import PASSWORD, World, sign_in


def test_app_from_settings_serves_over_http(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'syncloom.db'}"
    upgrade(url)
    with session_factory(make_engine(url)).begin() as session:
        accounts = Accounts(session)
        tenant = accounts.create_tenant("acme", "Acme")
        user = accounts.create_user("ana@acme.test", PASSWORD)
        accounts.grant(tenant.id, user.id, RoleName.ADMIN)
    settings = Settings(database_url=url, key_file=tmp_path / "master.key")
    with SimulatorServer(create_app(settings)) as server:
        login = httpx.get(f"{server.base_url}/login")
        css = httpx.get(f"{server.base_url}/static/portal.css")
    assert login.status_code == 200
    assert login.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in login.headers["content-security-policy"]
    assert css.status_code == 200
    assert (tmp_path / "master.key").exists()


def test_without_an_engine_actions_say_so(world: World) -> None:
    world.deps.engine = DetachedEngine()
    with world.sessions.begin() as session:
        flows = (
            "flows:\n  - {name: a, source: {connection: c, entity: A},"
            " target: {connection: e, entity: B}}\n"
        )
        ConfigVersions(session).save(world.acme, "flows", flows, author="seed")
    with TestClient(create_app(world.deps)) as client:
        csrf = sign_in(client, "operator@acme.test")
        answer = client.post("/api/flows/a/run", headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 409
    assert "the engine is not running" in answer.json()["detail"]


def test_api_reference_is_served_offline(client: TestClient, admin: str) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/dead-letters/{letter_id}/replay" in spec["paths"]
    reference = client.get("/docs")
    assert "POST /api/dead-letters/replay" in reference.text


@pytest.mark.parametrize("template", sorted(p.name for p in (HERE / "templates").glob("*.html")))
def test_templates_load_nothing_from_other_sites(template: str) -> None:
    text = (HERE / "templates" / template).read_text()
    external = re.findall(r'(?:src|href)="(?:https?:)?//[^"]*"', text)
    assert external == []
