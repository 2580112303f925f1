from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syncloom.connectors.base import Record, RecordKey
from syncloom.engine.flows import MatchField, MatchRules, MatchTier, Normaliser
from syncloom.engine.matcher import Match, Matcher, MatchKind, normalise

T0 = datetime(2026, 1, 1, tzinfo=UTC)

RULES = MatchRules(
    tiers=(
        MatchTier(
            name="stored_id",
            fields=(MatchField(source="ErpId", target="CustomerId", normalise=Normaliser.EXACT),),
        ),
        MatchTier(
            name="tax_id",
            fields=(MatchField(source="TaxId", target="TaxNumber", normalise=Normaliser.TAX_ID),),
        ),
        MatchTier(
            name="email",
            fields=(MatchField(source="Email", target="Mail", normalise=Normaliser.EMAIL),),
        ),
        MatchTier(
            name="name",
            fields=(MatchField(source="Name", target="CustomerName", normalise=Normaliser.NAME),),
        ),
    ),
    scope_by_legal_entity=True,
    legal_entity_field="Entity",
)


def target(ident, entity="E100", **values):
    return Record(
        RecordKey("erp", "Customer", ident), {"CustomerId": ident, "Entity": entity, **values}, T0
    )


TARGETS = [
    target("C1", TaxNumber="DE123456789", Mail="ops@acme.example", CustomerName="Acme GmbH"),
    target("C2", TaxNumber="FR999", CustomerName="Widget Co."),
    target("C3", CustomerName="Widget Co"),
    target("C4", "E200", TaxNumber="DE123456789", CustomerName="Acme GmbH"),
]
MATCHER = Matcher.from_rules(RULES)
INDEX = MATCHER.index(TARGETS)


def key(ident):
    return RecordKey("erp", "Customer", ident)


@pytest.mark.parametrize(
    ("how", "raw", "expected"),
    [
        (Normaliser.TAX_ID, " de 123-456.789 ", "DE123456789"),
        (Normaliser.EMAIL, " Ops@Acme.Example ", "ops@acme.example"),
        (Normaliser.NAME, "ACME,  GmbH.", "acme gmbh"),
        (Normaliser.TEXT, " A   b ", "a b"),
        (Normaliser.EXACT, " Ab ", "Ab"),
        (Normaliser.TEXT, "   ", None),
        (Normaliser.TAX_ID, None, None),
    ],
)
def test_normalise(how, raw, expected):
    assert normalise(raw, how) == expected


def test_stored_id_wins_first():
    match = MATCHER.match({"ErpId": "C2", "TaxId": "DE123456789"}, INDEX, legal_entity="E100")
    assert match == Match(MatchKind.MATCHED, key("C2"), "stored_id", (key("C2"),))


def test_tax_id_normalised_within_legal_entity():
    match = MATCHER.match({"TaxId": "de 123 456 789"}, INDEX, legal_entity="E100")
    assert (match.kind, match.key, match.tier) == (MatchKind.MATCHED, key("C1"), "tax_id")
    other = MATCHER.match({"TaxId": "DE-123456789"}, INDEX, legal_entity="E200")
    assert other.key == key("C4")


def test_email_case_is_ignored():
    match = MATCHER.match({"Email": "OPS@acme.EXAMPLE"}, INDEX, legal_entity="E100")
    assert (match.key, match.tier) == (key("C1"), "email")


def test_ambiguous_names_are_never_a_match():
    match = MATCHER.match({"Name": "widget co"}, INDEX, legal_entity="E100")
    assert match.kind is MatchKind.AMBIGUOUS
    assert match.key is None
    assert match.candidates == (key("C2"), key("C3"))
    assert match.tier == "name"


def test_no_match_and_other_legal_entity():
    assert MATCHER.match({"Name": "Nobody"}, INDEX, legal_entity="E100").kind is MatchKind.NONE
    assert MATCHER.match({"Name": "Widget Co"}, INDEX, legal_entity="E200").kind is MatchKind.NONE
    assert MATCHER.match({}, INDEX, legal_entity="E100").kind is MatchKind.NONE


def test_unscoped_matcher_sees_all_entities():
    unscoped = Matcher.from_rules(RULES.model_copy(update={"scope_by_legal_entity": False}))
    match = unscoped.match({"TaxId": "DE123456789"}, unscoped.index(TARGETS))
    assert match.kind is MatchKind.AMBIGUOUS
    assert match.candidates == (key("C1"), key("C4"))


class SearchRecorder:
    """Exact-match search over the target records, like a connector's search."""

    def __init__(self):
        self.criteria = []

    async def __call__(self, criteria):
        self.criteria.append(dict(criteria))
        return [t for t in TARGETS if all(t.values.get(k) == v for k, v in criteria.items())]


@pytest.mark.anyio
async def test_search_matches_tier_by_tier():
    search = SearchRecorder()
    match = await MATCHER.search({"TaxId": "FR999", "Email": "x@y.z"}, search, legal_entity="E100")
    assert (match.key, match.tier) == (key("C2"), "tax_id")
    assert search.criteria == [{"TaxNumber": "FR999", "Entity": "E100"}]


@pytest.mark.anyio
async def test_search_filters_candidates_by_normalised_value_and_entity():
    async def loose_search(criteria):
        return TARGETS  # a system whose search ignores some criteria

    match = await MATCHER.search({"Name": "Acme GmbH"}, loose_search, legal_entity="E200")
    assert match.key == key("C4")
    none = await MATCHER.search({"Name": "Nobody"}, loose_search, legal_entity="E100")
    assert none.kind is MatchKind.NONE
