"""Wire format of the Intacct gateway: safe request parsing and response writing.

Requests are parsed with entity expansion, DTD loading and network access off, and any
``<!DOCTYPE>`` is refused, so hostile XML (billion laughs, external entities) fails like any
malformed body: a control-level ``XL03000003`` answer. Responses are written as strings, which
keeps 2,000-row pages cheap.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>'
CONTENT_TYPE = "text/xml; charset=UTF-8"

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False
)


class MalformedRequestError(ValueError):
    """The body is not acceptable XML; the message is worded as the gateway words it."""


def support_id() -> str:
    """A fresh support id, URL-encoded the way Intacct prints it."""
    return secrets.token_urlsafe(18).replace("-", "%7E")


def parse_request(body: bytes) -> etree._Element:
    """Parse a request body, refusing DTDs and entities.

    Raises:
        MalformedRequestError: on any XML error, with libxml2's line and column.
    """
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (1, 0)
        raise MalformedRequestError(
            f"XML Parse schema error: Fatal Error {getattr(exc, 'code', 0)}: {exc.msg}. "
            f"Line: {line}, column: {column}. [Support ID: {support_id()}]"
        ) from None
    info: Any = root.getroottree().docinfo
    if info.doctype:
        raise MalformedRequestError(
            "XML Parse schema error: Fatal Error 94: DOCTYPE is not allowed. "
            f"Line: 1, column: 0. [Support ID: {support_id()}]"
        )
    return root


def text(node: etree._Element | None, path: str, default: str = "") -> str:
    """The stripped text of ``path`` under ``node``, or ``default``."""
    if node is None:
        return default
    found = node.find(path)
    if found is None or found.text is None:
        return default
    return found.text.strip()


def esc(value: object) -> str:
    return (
        str(value)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#039;")
    )


def elem(tag: str, value: object = "") -> str:
    return f"<{tag}>{esc(value)}</{tag}>"


def attrs(pairs: Mapping[str, object]) -> str:
    return "".join(f' {k}="{esc(v)}"' for k, v in pairs.items())


class RawXml(str):
    """Already-rendered XML (nested lines), written as is."""

    __slots__ = ()


@dataclass(frozen=True)
class IntacctError:
    """One ``<error>`` of an ``<errormessage>`` block."""

    errorno: str
    description2: str
    description: str = ""
    correction: str = ""

    def render(self) -> str:
        return (
            "<error>"
            + elem("errorno", self.errorno)
            + elem("description", self.description)
            + elem("description2", self.description2)
            + elem("correction", self.correction)
            + "</error>"
        )


class FunctionFailure(Exception):
    """A function failed; ``errors`` go into its ``<result>``, ``data`` is any partial data."""

    def __init__(self, errors: list[IntacctError], data: str = "") -> None:
        super().__init__(errors[0].description2 if errors else "failure")
        self.errors = errors
        self.data = data


def errormessage(errors: Iterable[IntacctError]) -> str:
    return "<errormessage>" + "".join(e.render() for e in errors) + "</errormessage>"


def record_xml(tag: str, values: Mapping[str, object], fields: Iterable[str]) -> str:
    """One record element; dotted names stay element names verbatim, empty as ``<X></X>``."""
    parts: list[str] = []
    for name in fields:
        value = values.get(name)
        if isinstance(value, RawXml):
            parts.append(value)  # pre-rendered nested lines
        else:
            parts.append(f"<{name}>{esc(value) if value not in (None, '') else ''}</{name}>")
    return f"<{tag}>{''.join(parts)}</{tag}>"


def gateway_error(errorno: str, description: str) -> str:
    """Body of a gateway-level (HTTP 4xx) failure: no ``<operation>``."""
    return (
        XML_DECL
        + "<response><control><status>failure</status></control><errormessage><error>"
        + elem("errorno", errorno)
        + elem("description", description)
        + "</error></errormessage></response>"
    )
