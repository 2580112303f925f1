from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from syncloom.errors import ConfigError
from syncloom.portal import start
from syncloom.portal.server import PortalServer
from syncloom.settings import Settings
from syncloom.store import make_engine, upgrade
from syncloom.vault import open_vault
from tests.portal.fixtures import World


def test_start_serves_in_the_background_until_stopped(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'syncloom.db'}"
    upgrade(url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(database_url=url, key_file=tmp_path / "master.key", web_port=port)
    vault = open_vault(settings, make_engine(url))
    stop = start(settings, vault)
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/login").status_code == 200
    finally:
        stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)


def test_a_taken_port_is_one_clear_error(world: World) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            PortalServer(world.app(), "127.0.0.1", port)
