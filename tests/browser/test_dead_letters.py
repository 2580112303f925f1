from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from syncloom.engine.clock import SystemClock
from syncloom.engine.dead_letters import DeadLetterQueue
from syncloom.store.models import DeadLetter, DeadLetterStatus
from tests.browser.conftest import sign_in
from tests.portal.fixtures import World

pytestmark = pytest.mark.browser


def test_read_edit_and_replay_a_dead_letter(world: World, tab: Page) -> None:
    with world.sessions.begin() as session:
        letter = DeadLetter(
            tenant_id=world.acme,
            flow="accounts",
            record_key="creatio:Account:a1",
            payload={"Name": "Acme GmbH", "Country": "XX"},
            error_class="ValidationError",
            error_text="CountryCode: 'XX' is not a country",
        )
        session.add(letter)
        session.flush()
        letter_id = letter.id
    sign_in(tab, "operator@acme.test")
    tab.get_by_role("link", name="Needs attention").click()
    tab.get_by_role("link", name=str(letter_id), exact=True).click()
    expect(tab.get_by_text("'XX' is not a country")).to_be_visible()
    expect(tab.get_by_text('"Country": "XX"')).to_be_visible()
    tab.get_by_label("Field overrides (JSON object) applied on replay").fill('{"Country": "DE"}')
    tab.get_by_role("button", name="Save overrides").click()
    expect(tab.get_by_role("status")).to_have_text("Overrides saved.")
    tab.get_by_role("button", name="Replay").click()
    expect(tab.get_by_role("status")).to_have_text(f"Dead letter {letter_id} replayed.")
    expect(tab.get_by_text("Nothing needs attention.")).to_be_visible()
    # Payloads are sealed at rest: read the letter back through the queue, which opens it.
    stored = DeadLetterQueue(world.sessions, world.acme, SystemClock(), world.deps.vault).get(
        letter_id
    )
    assert stored.status is DeadLetterStatus.REPLAYED
    assert stored.payload["overrides"] == {"Country": "DE"}
