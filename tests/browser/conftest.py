"""Browser fixtures: the portal under uvicorn on loopback and Debian's Chromium, headless.

Screenshots go to ``test-artifacts/browser/`` (git-ignored) so a failed run can be read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from syncloom.simulators.common.server import SimulatorServer
from tests.portal.fixtures import PASSWORD, World, build_world, seed_database

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}; install the distribution's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("browser-template") / "template.db"
    return path, seed_database(path)


@pytest.fixture
def world(tmp_path: Path, seeded: tuple[Path, dict[str, int]]) -> World:
    return build_world(tmp_path, *seeded)


@pytest.fixture
def portal(world: World) -> Iterator[str]:
    with SimulatorServer(world.app()) as server:
        yield server.base_url


@pytest.fixture
def tab(chromium: Browser, portal: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = chromium.new_context(base_url=portal)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    # Confirm dialogs guard destructive buttons; the operator in these tests means it.
    tab.on("dialog", lambda dialog: dialog.accept())
    yield tab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def sign_in(tab: Page, email: str = "admin@acme.test") -> None:
    tab.goto("/login")
    tab.get_by_label("Email").fill(email)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.get_by_role("heading", name="Dashboard").wait_for()
