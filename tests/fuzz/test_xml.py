"""Property-based fuzzing of the XML readers: Intacct gateway answers and Creatio ``$metadata``.

Whatever bytes a server sends, a reader returns its typed result or raises a
:class:`~syncloom.errors.SyncError`; never a parser's, codec's or lookup error. Two kinds of
input: raw bytes (mostly garbage), and documents shaped like the real thing with hostile
twists (unknown tags, missing blocks, odd text, entity references, DOCTYPEs).
"""

from __future__ import annotations

import contextlib
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from syncloom.connectors.base import EntitySpec
from syncloom.connectors.creatio.metadata import parse_metadata
from syncloom.connectors.intacct.client import _parse, _results
from syncloom.connectors.intacct.entities import ENTITIES as INTACCT_ENTITIES
from syncloom.connectors.intacct.records import to_record
from syncloom.errors import SyncError

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
)
TAGS = st.sampled_from(
    [
        "response", "control", "status", "operation", "authentication", "result", "data",
        "errormessage", "error", "errorno", "description", "description2", "function",
        "controlid", "key", "api", "sessionid", "endpoint", "customer", "CUSTOMER", "NAME",
        "WHENMODIFIED", "RECORDNO", "CUSTOMERID", "x",
    ]
)  # fmt: skip
# Element text that XML can carry at all (no control characters): what a server could send.
VALUE_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
STATUS_TEXT = st.sampled_from(["success", "failure", "aborted", "", "SUCCESS"])


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def elements(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(TAGS)
    if depth >= 4 or draw(st.booleans()):
        text = draw(st.one_of(STATUS_TEXT, TEXT.map(_escape), st.just("&ent;")))
        return f"<{tag}>{text}</{tag}>"
    kids = draw(st.lists(elements(depth + 1), max_size=4))
    return f"<{tag}>{''.join(kids)}</{tag}>"


@st.composite
def gateway_answers(draw: st.DrawFn) -> bytes:
    prolog = draw(
        st.sampled_from(
            [
                "",
                '<?xml version="1.0" encoding="UTF-8"?>',
                '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY ent "boom">]>',
                '<?xml version="1.0" encoding="ISO-8859-1"?>',
            ]
        )
    )
    body = draw(st.lists(elements(), max_size=4))
    control = f"<control><status>{draw(STATUS_TEXT)}</status></control>"
    head = control if draw(st.booleans()) else ""
    return f"{prolog}<response>{head}{''.join(body)}</response>".encode()


def _read_gateway(content: bytes) -> None:
    try:
        for result in _results(_parse(content)):
            result.records()
            if not result.ok:
                assert isinstance(result.error(), SyncError)
    except SyncError:
        pass


@FUZZ
@given(st.binary(max_size=2000))
@example(b"")
@example(b"<response/>")
@example(b"<response><control><status>success</status></control></response>")
@example(b"<response><control><status>success</status></control><operation/></response>")
def test_any_bytes_from_the_gateway_are_read_or_refused_with_a_sync_error(content):
    _read_gateway(content)


@FUZZ
@given(gateway_answers())
def test_any_gateway_shaped_answer_is_read_or_refused_with_a_sync_error(content):
    _read_gateway(content)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(
            ["CUSTOMERID", "NAME", "WHENMODIFIED", "CREDITLIMIT", "STATUS", "RECORDNO"]
        ),
        VALUE_TEXT.map(_escape),
        max_size=6,
    )
)
@example({"WHENMODIFIED": "13/45/2026 99:99:99"})
@example({"CREDITLIMIT": "lots"})
def test_any_customer_values_become_a_record_or_a_sync_error(values):
    element = _parse(
        (
            "<CUSTOMER>" + "".join(f"<{k}>{v}</{k}>" for k, v in values.items()) + "</CUSTOMER>"
        ).encode()
    )
    with contextlib.suppress(SyncError):
        to_record(INTACCT_ENTITIES["CUSTOMER"], element, ZoneInfo("America/Los_Angeles"))


EDMX = (
    '<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">'
    '<edmx:DataServices><Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" '
    'Namespace="Terrasoft.Configuration.OData">{types}</Schema></edmx:DataServices></edmx:Edmx>'
)
PROPERTY = st.builds(
    lambda name, kind, nullable: f'<Property Name="{name}" Type="{kind}" Nullable="{nullable}"/>',
    st.sampled_from(["Id", "Name", "ModifiedOn", "OwnerId", "x", "", "Id Id"]),
    st.sampled_from(["Edm.Guid", "Edm.String", "Edm.Int32", "Edm.Nonsense", "", "Edm.Stream"]),
    st.sampled_from(["true", "false", "maybe"]),
)
ENTITY_TYPE = st.builds(
    lambda name, props, key: (
        f'<EntityType Name="{name}">'
        + (f'<Key><PropertyRef Name="{key}"/></Key>' if key is not None else "")
        + "".join(props)
        + "</EntityType>"
    ),
    st.sampled_from(["Account", "Contact", "", "Weird"]),
    st.lists(PROPERTY, max_size=5),
    st.one_of(st.none(), st.sampled_from(["Id", "Nope"])),
)


@FUZZ
@given(st.one_of(st.binary(max_size=1500), st.lists(ENTITY_TYPE, max_size=3).map(
    lambda types: EDMX.format(types="".join(types)).encode()
)))  # fmt: skip
@example(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
@example(b"")
def test_any_metadata_document_is_read_or_refused_with_a_sync_error(content):
    try:
        specs = parse_metadata(content)
    except SyncError:
        return
    assert all(isinstance(spec, EntitySpec) for spec in specs.values())
