"""Legacy function bodies for objects the generic ``create`` does not support.

``ARINVOICE`` → ``create_invoice``, ``SODOCUMENT`` → ``create_sotransaction``, ``ARPYMT`` →
``create_arpayment``. Element order follows the XSD sequences (order matters), dates are
``<year><month><day>``, and currency elements (``basecurr``, ``currency``, ``exchrate``) are
passed through for multi-currency documents. Lines are a list of mappings under ``lines``
using the read names of the line object (``ACCOUNTNO``, ``AMOUNT``, ``ITEMID``...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from syncloom.connectors.intacct.queries import el, to_wire

Values = Mapping[str, object]


def _date(tag: str, value: object) -> str:
    if not isinstance(value, date):
        return ""
    return (
        f"<{tag}>{el('year', value.year)}{el('month', value.month)}{el('day', value.day)}</{tag}>"
    )


def _opt(tag: str, value: object) -> str:
    return el(tag, to_wire(value)) if value not in (None, "") else ""


def _currency(values: Values) -> str:
    # Either a rate, or a rate type (and date) Intacct looks the rate up by; not both.
    rate = values.get("EXCHANGE_RATE")
    by_type = (
        ""
        if rate not in (None, "")
        else (
            _date("exchratedate", values.get("EXCH_RATE_DATE"))
            + _opt("exchratetype", values.get("EXCH_RATE_TYPE_ID"))
        )
    )
    return (
        _opt("basecurr", values.get("BASECURR"))
        + _opt("currency", values.get("CURRENCY"))
        + (_opt("exchrate", rate) or by_type)
    )


def _lines(values: Values) -> Sequence[Values]:
    lines = values.get("lines") or []
    return lines if isinstance(lines, list) else []


def _custom_fields(line: Values) -> str:
    """User-defined dimensions of a line (``GLDIMTEAM``: the UDD's id) as ``customfields``."""
    fields = "".join(
        "<customfield>"
        + el("customfieldname", name)
        + el("customfieldvalue", to_wire(value))
        + "</customfield>"
        for name, value in line.items()
        if name.startswith("GLDIM") and value not in (None, "")
    )
    return f"<customfields>{fields}</customfields>" if fields else ""


def create_invoice(values: Values) -> str:
    """``create_invoice`` from ARINVOICE read names plus ``lines`` (ARINVOICEITEM names)."""
    items = "".join(
        "<lineitem>"
        + _opt("glaccountno", line.get("ACCOUNTNO"))
        + _opt("amount", line.get("AMOUNT"))
        + _opt("memo", line.get("ENTRYDESCRIPTION"))
        + _opt("locationid", line.get("LOCATIONID"))
        + _opt("departmentid", line.get("DEPARTMENTID"))
        + _custom_fields(line)
        + _opt("projectid", line.get("PROJECTID"))
        + _opt("itemid", line.get("ITEMID"))
        + _opt("classid", line.get("CLASSID"))
        + "</lineitem>"
        for line in _lines(values)
    )
    return (
        "<create_invoice>"
        + _opt("customerid", values.get("CUSTOMERID"))
        + _date("datecreated", values.get("WHENCREATED"))
        + _date("dateposted", values.get("WHENPOSTED"))
        + _date("datedue", values.get("WHENDUE"))
        + _opt("termname", values.get("TERMNAME"))
        + _opt("action", values.get("ACTION"))
        + _opt("invoiceno", values.get("RECORDID"))
        + _opt("description", values.get("DESCRIPTION"))
        + _opt("externalid", values.get("EXTERNALID"))
        + _currency(values)
        + f"<invoiceitems>{items}</invoiceitems></create_invoice>"
    )


def create_sotransaction(values: Values, document_no: str | None) -> str:
    """``create_sotransaction`` from SODOCUMENT names plus ``lines`` (SODOCUMENTENTRY names)."""
    items = "".join(
        "<sotransitem>"
        + _opt("itemid", line.get("ITEMID"))
        + _opt("itemdesc", line.get("ITEMDESC"))
        + _opt("quantity", line.get("QUANTITY"))
        + _opt("unit", line.get("UNIT"))
        + _opt("price", line.get("PRICE"))
        + _opt("locationid", line.get("LOCATIONID"))
        + _opt("departmentid", line.get("DEPARTMENTID"))
        + _opt("memo", line.get("MEMO"))
        + _custom_fields(line)
        + _opt("projectid", line.get("PROJECTID"))
        + "</sotransitem>"
        for line in _lines(values)
    )
    return (
        "<create_sotransaction>"
        + _opt("transactiontype", values.get("DOCPARID") or "Sales Order")
        + _date("datecreated", values.get("WHENCREATED") or date(2000, 1, 1))
        + _opt("customerid", values.get("CUSTVENDID"))
        + _opt("documentno", document_no)
        + _opt("referenceno", values.get("PONUMBER"))
        + _opt("message", values.get("MESSAGE"))
        + _opt("externalid", values.get("EXTERNALID"))
        + _currency(values)
        + f"<sotransitems>{items}</sotransitems></create_sotransaction>"
    )


def create_arpayment(values: Values) -> str:
    """``create_arpayment``; ``lines`` are ``{"RECORDKEY": invoice RECORDNO, "AMOUNT": ...}``."""
    applied = "".join(
        "<arpaymentitem>"
        + _opt("invoicekey", line.get("RECORDKEY"))
        + _opt("amount", line.get("AMOUNT"))
        + "</arpaymentitem>"
        for line in _lines(values)
    )
    return (
        "<create_arpayment>"
        + _opt("customerid", values.get("CUSTOMERID"))
        + _opt("paymentamount", values.get("TRX_TOTALENTERED"))
        + _opt("bankaccountid", values.get("FINANCIALENTITY"))
        + _date("datereceived", values.get("RECEIPTDATE"))
        + _opt("paymentmethod", values.get("PAYMENTMETHOD"))
        + _opt("refid", values.get("DOCNUMBER"))
        + _currency(values)
        + applied
        + "</create_arpayment>"
    )
