from __future__ import annotations

from fastapi.testclient import TestClient

from syncloom.store import AuditLog
from syncloom.store.models import DeadLetter, DeadLetterStatus
from tests.portal.fixtures import World


def park(
    world: World, tenant_id: int, key: str = "creatio:Account:a1", flow: str = "accounts"
) -> int:
    with world.sessions.begin() as session:
        letter = DeadLetter(
            tenant_id=tenant_id,
            flow=flow,
            record_key=key,
            payload={"Name": "Acme GmbH", "Country": "XX"},
            error_class="ValidationError",
            error_text="CountryCode: 'XX' is not a country",
        )
        session.add(letter)
        session.flush()
        return letter.id


def status_of(world: World, letter_id: int) -> DeadLetterStatus:
    with world.sessions() as session:
        letter = session.get(DeadLetter, letter_id)
        assert letter is not None
        return letter.status


def test_list_and_detail_show_payload_and_error(
    world: World, client: TestClient, admin: str
) -> None:
    letter_id = park(world, world.acme)
    listing = client.get("/dead-letters")
    assert "creatio:Account:a1" in listing.text
    detail = client.get(f"/dead-letters/{letter_id}")
    assert "is not a country" in detail.text
    assert "Acme GmbH" in detail.text
    api = client.get("/api/dead-letters", params={"flow": "accounts"}).json()
    assert [item["id"] for item in api] == [letter_id]
    assert client.get("/api/dead-letters", params={"flow": "orders"}).json() == []


def test_edit_then_replay_leaves_the_open_list(
    world: World, client: TestClient, admin: str
) -> None:
    letter_id = park(world, world.acme)
    edited = client.post(
        f"/dead-letters/{letter_id}/edit",
        data={"overrides": '{"Country": "DE"}', "csrf_token": admin},
    )
    assert "Overrides saved." in edited.text
    replayed = client.post(f"/dead-letters/{letter_id}/replay", data={"csrf_token": admin})
    assert f"Dead letter {letter_id} replayed." in replayed.text
    assert status_of(world, letter_id) is DeadLetterStatus.REPLAYED
    assert client.get("/api/dead-letters").json() == []
    with world.sessions() as session:
        actions = [e.action for e in AuditLog(session).entries(world.acme)]
    assert actions[:2] == ["dead_letter.replay", "dead_letter.edit"]


def test_bad_overrides_show_a_field_error(world: World, client: TestClient, admin: str) -> None:
    letter_id = park(world, world.acme)
    page = client.post(
        f"/dead-letters/{letter_id}/edit", data={"overrides": "[1, 2", "csrf_token": admin}
    )
    assert page.status_code == 422
    assert "must be a JSON object" in page.text


def test_bulk_replay_and_dismiss(world: World, client: TestClient, admin: str) -> None:
    first, second, third = (park(world, world.acme, f"creatio:Account:{n}") for n in "abc")
    headers = {"X-CSRF-Token": admin}
    bulk = client.post("/api/dead-letters/replay", json={"ids": [first, second]}, headers=headers)
    assert bulk.json() == {"replayed": [first, second]}
    again = client.post("/api/dead-letters/replay", json={"ids": [first]}, headers=headers)
    assert again.status_code == 422
    assert client.post(f"/api/dead-letters/{third}/dismiss", headers=headers).status_code == 204
    assert status_of(world, third) is DeadLetterStatus.DISMISSED
    assert world.engine.calls == [("replay", (world.acme, [first, second]))]


def test_viewer_cannot_replay(world: World, client: TestClient) -> None:
    from tests.portal.fixtures import sign_in

    letter_id = park(world, world.acme)
    csrf = sign_in(client, "viewer@acme.test")
    refused = client.post(f"/dead-letters/{letter_id}/replay", data={"csrf_token": csrf})
    assert refused.status_code == 403
    assert status_of(world, letter_id) is DeadLetterStatus.OPEN


def test_bulk_replay_from_the_page(world: World, client: TestClient, admin: str) -> None:
    first, second = (
        park(world, world.acme, "creatio:Account:x"),
        park(world, world.acme, "creatio:Account:y"),
    )
    page = client.post(
        "/dead-letters/replay", data={"ids": [str(first), str(second)], "csrf_token": admin}
    )
    assert "Replayed 2 dead letter(s)." in page.text
    assert "Nothing needs attention." in page.text
    assert status_of(world, first) is status_of(world, second) is DeadLetterStatus.REPLAYED
