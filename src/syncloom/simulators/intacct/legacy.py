"""Legacy (2.1-style) writes: ``create_invoice``, ``create_sotransaction``, ``create_arpayment``.

Their bodies use lower-case element names and ``<year><month><day>`` dates, and their success
puts a ``<key>`` straight under ``<result>``: the new RECORDNO for invoices and payments, the
``DOCID`` (``Sales Order-SO0042``) for sales documents. The generic ``<create><ARPYMT>`` lives
here too because it also applies payments to invoices.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from lxml import etree

from syncloom.simulators.common.seed import USD_PER_UNIT
from syncloom.simulators.common.store import Row
from syncloom.simulators.intacct.context import Call
from syncloom.simulators.intacct.entities import OBJECTS
from syncloom.simulators.intacct.payments import apply_payment
from syncloom.simulators.intacct.wire import FunctionFailure, IntacctError, text

TERM_DAYS = {"N30": 30, "N60": 60, "N10": 10, "Due on receipt": 0}


def _required(node: etree._Element, name: str) -> str:
    value = text(node, name)
    if not value:
        raise FunctionFailure([IntacctError("BL01001973", f"Required field {name} is missing.")])
    return value


def _date(node: etree._Element, name: str) -> date | None:
    part = node.find(name)
    if part is None:
        return None
    try:
        return date(int(text(part, "year")), int(text(part, "month")), int(text(part, "day")))
    except ValueError:
        raise FunctionFailure([IntacctError("BL01001973", f"Invalid date in {name}.")]) from None


def _money(raw: str, name: str) -> Decimal:
    try:
        return Decimal(raw or "0").quantize(Decimal("0.01"))
    except InvalidOperation:
        raise FunctionFailure([IntacctError("BL01001973", f"Invalid amount in {name}.")]) from None


def _wire_date(day: date | None) -> str:
    return day.strftime("%m/%d/%Y") if day else ""


def _customer(call: Call, customerid: str) -> Row:
    row = call.store.by_id(OBJECTS["CUSTOMER"], customerid)
    if row is None:
        raise FunctionFailure(
            [IntacctError("BL01001973", f"Invalid Customer '{customerid}' specified.")]
        )
    return row


def _base_currency(call: Call) -> str:
    """The entity's own currency in an entity session; the company's (USD) at top level."""
    entity = call.store.by_id(OBJECTS["LOCATIONENTITY"], call.entity) if call.entity else None
    return (entity or {}).get("CURRENCY") or "USD"


def _currency(node: etree._Element, customer: Row, call: Call) -> dict[str, str]:
    """Base and transaction currency; a rate type (``Intacct Daily Rate``) looks the rate up."""
    base = text(node, "basecurr") or _base_currency(call)
    currency = text(node, "currency") or customer.get("CURRENCY") or base
    kind = text(node, "exchratetype")
    rate = text(node, "exchrate") or (_daily_rate(currency, base) if kind else "1")
    return {
        "BASECURR": base,
        "CURRENCY": currency,
        "EXCH_RATE_TYPE_ID": kind,
        "EXCH_RATE_DATE": _wire_date(_date(node, "exchratedate") or call.store.now().date()),
        "EXCHANGE_RATE": rate,
    }


def _daily_rate(currency: str, base: str) -> str:
    """Units of ``base`` per unit of ``currency``, from the seeded daily rates."""
    if currency not in USD_PER_UNIT or base not in USD_PER_UNIT:
        raise FunctionFailure(
            [IntacctError("BL01001973", f"No daily rate from {currency} to {base}.")]
        )
    rate = Decimal(USD_PER_UNIT[currency]) / Decimal(USD_PER_UNIT[base])
    return str(rate.quantize(Decimal("0.000001")))


def _custom_fields(line: etree._Element, call: Call) -> dict[str, str]:
    """A line's ``customfields``: user-defined dimensions (``GLDIMTEAM``) by the UDD's id."""
    found = {}
    for field in line.findall("customfields/customfield"):
        name = text(field, "customfieldname").upper()
        udd = OBJECTS.get(name.removeprefix("GLDIM")) if name.startswith("GLDIM") else None
        if udd is None or not udd.platform:
            raise FunctionFailure(
                [IntacctError("BL01001973", f"Invalid custom field {name} on the line.")]
            )
        value = text(field, "customfieldvalue")
        if value and call.store.by_id(udd, value) is None:
            raise FunctionFailure(
                [IntacctError("BL01001973", f"Invalid {udd.label} '{value}' specified.")]
            )
        found[name] = value
    return found


def create_invoice(node: etree._Element, call: Call) -> str:
    """Store an ARINVOICE with its ARINVOICEITEM lines; answer ``<key>RECORDNO</key>``."""
    customer = _customer(call, _required(node, "customerid"))
    created = _date(node, "datecreated") or call.store.now().date()
    lines = node.findall("invoiceitems/lineitem")
    if not lines:
        raise FunctionFailure(
            [IntacctError("BL01001973", "Required field invoiceitems is missing.")]
        )
    money = _currency(node, customer, call)
    rate = Decimal(money["EXCHANGE_RATE"])
    total = sum((_money(text(li, "amount"), "amount") for li in lines), Decimal("0.00"))
    term = text(node, "termname") or customer.get("TERMNAME", "")
    due = _date(node, "datedue") or created + timedelta(days=TERM_DAYS.get(term, 30))
    base_total = str((total * rate).quantize(Decimal("0.01")))
    header = {
        "RECORDID": text(node, "invoiceno"),
        "STATE": "Draft" if text(node, "action") == "Draft" else "Posted",
        "RECORDTYPE": "ri",
        "CUSTOMERID": customer["CUSTOMERID"],
        "CUSTOMERNAME": customer.get("NAME", ""),
        "DOCNUMBER": text(node, "ponumber"),
        "DESCRIPTION": text(node, "description"),
        "EXTERNALID": text(node, "externalid"),
        "TERMNAME": term,
        "WHENCREATED": _wire_date(created),
        "WHENPOSTED": _wire_date(_date(node, "dateposted") or created),
        "WHENDUE": _wire_date(due),
        "MODULEKEY": "4.AR",
        "TRX_TOTALENTERED": str(total),
        "TRX_TOTALDUE": str(total),
        "TRX_TOTALPAID": "0.00",
        "TOTALENTERED": base_total,
        "TOTALDUE": base_total,
        "TOTALPAID": "0.00",
        **money,
    }
    row = call.store.insert(OBJECTS["ARINVOICE"], header, call.user_recordno, call.entity)
    for number, line in enumerate(lines, start=1):
        _invoice_line(call, row, number, line, money)
    call.transactions += 1
    call.emit(OBJECTS["ARINVOICE"], row, "create")
    return f"<key>{row['RECORDNO']}</key>"


def _invoice_line(
    call: Call, header: Row, number: int, line: etree._Element, money: dict[str, str]
) -> None:
    amount = _money(text(line, "amount"), "amount")
    rate = Decimal(money["EXCHANGE_RATE"])
    values = {
        "RECORDKEY": header["RECORDNO"],
        "LINE_NO": str(number),
        "ACCOUNTNO": text(line, "glaccountno"),
        "OFFSETGLACCOUNTNO": text(line, "offsetglaccountno"),
        "TRX_AMOUNT": str(amount),
        "AMOUNT": str((amount * rate).quantize(Decimal("0.01"))),
        "ENTRYDESCRIPTION": text(line, "memo"),
        "CUSTOMERID": header["CUSTOMERID"],
        **{f: text(line, f.lower()) for f in ("LOCATIONID", "DEPARTMENTID", "CLASSID")},
        **{f: text(line, f.lower()) for f in ("PROJECTID", "ITEMID")},
        **_custom_fields(line, call),
        "CURRENCY": money["CURRENCY"],
        "BASECURR": money["BASECURR"],
        "EXCHANGE_RATE": money["EXCHANGE_RATE"],
    }
    call.store.insert(OBJECTS["ARINVOICEITEM"], values, call.user_recordno, call.entity)


def create_sotransaction(node: etree._Element, call: Call) -> str:
    """Store a SODOCUMENT with SODOCUMENTENTRY lines; answer ``<key>DOCID</key>``."""
    kind = _required(node, "transactiontype")
    customer = _customer(call, _required(node, "customerid"))
    items = node.findall("sotransitems/sotransitem")
    if not items:
        raise FunctionFailure(
            [IntacctError("BL01001973", "Required field sotransitems is missing.")]
        )
    documents = OBJECTS["SODOCUMENT"]
    docno = text(node, "documentno") or f"SO{call.store.count(documents) + 1:04d}"
    docid = f"{kind}-{docno}"
    if call.store.by_id(documents, docid) is not None:
        raise FunctionFailure(
            [IntacctError("BL01001973", f"Document number {docno} already exists for {kind}.")]
        )
    money = _currency(node, customer, call)
    total = Decimal("0.00")
    for item in items:
        total += _money(text(item, "quantity"), "quantity") * _money(text(item, "price"), "price")
    created = _date(node, "datecreated") or call.store.now().date()
    header = {
        "DOCID": docid,
        "DOCNO": docno,
        "DOCPARID": kind,
        "STATE": "Pending",
        "CUSTVENDID": customer["CUSTOMERID"],
        "CUSTVENDNAME": customer.get("NAME", ""),
        "WHENCREATED": _wire_date(created),
        "WHENDUE": _wire_date(_date(node, "datedue")),
        "TERM.NAME": text(node, "termname"),
        "MESSAGE": text(node, "message"),
        "PONUMBER": text(node, "referenceno"),
        "EXTERNALID": text(node, "externalid"),
        "CURRENCY": money["CURRENCY"],
        "BASECURR": money["BASECURR"],
        "EXCH_RATE_TYPE_ID": money["EXCH_RATE_TYPE_ID"],
        "EXCHANGE_RATE": money["EXCHANGE_RATE"],
        "TRX_TOTAL": str(total),
        "TOTAL": str((total * Decimal(money["EXCHANGE_RATE"])).quantize(Decimal("0.01"))),
    }
    row = call.store.insert(documents, header, call.user_recordno, call.entity)
    for number, item in enumerate(items):  # LINE_NO is 0-based on SODOCUMENTENTRY
        _so_line(call, row, number, item)
    call.transactions += 1
    call.emit(documents, row, "create")
    return f"<key>{docid}</key>"


def _so_line(call: Call, header: Row, number: int, item: etree._Element) -> None:
    quantity = _money(text(item, "quantity"), "quantity")
    price = _money(text(item, "price"), "price")
    values = {
        "DOCHDRNO": header["RECORDNO"],
        "DOCHDRID": header["DOCID"],
        "SALE_PUR_TRANS": "S",
        "LINE_NO": str(number),
        "ITEMID": text(item, "itemid"),
        "ITEMDESC": text(item, "itemdesc"),
        "QUANTITY": str(quantity),
        "UNIT": text(item, "unit"),
        "PRICE": str(price),
        "TOTAL": str((quantity * price).quantize(Decimal("0.01"))),
        "MEMO": text(item, "memo"),
        "LOCATIONID": text(item, "locationid"),
        "DEPARTMENTID": text(item, "departmentid"),
        "PROJECTID": text(item, "projectid"),
        **_custom_fields(item, call),
    }
    call.store.insert(OBJECTS["SODOCUMENTENTRY"], values, call.user_recordno, call.entity)


def create_arpayment(node: etree._Element, call: Call) -> str:
    """Store an ARPYMT and apply its ``arpaymentitem``s; answer ``<key>RECORDNO</key>``."""
    customer = _customer(call, _required(node, "customerid"))
    amount = _money(_required(node, "paymentamount"), "paymentamount")
    money = _currency(node, customer, call)
    received = _date(node, "datereceived") or call.store.now().date()
    values = {
        "CUSTOMERID": customer["CUSTOMERID"],
        "CUSTOMERNAME": customer.get("NAME", ""),
        "PAYMENTMETHOD": _required(node, "paymentmethod"),
        "FINANCIALENTITY": text(node, "bankaccountid") or text(node, "undepfundsacct"),
        "DOCNUMBER": text(node, "refid"),
        "RECEIPTDATE": _wire_date(received),
        "WHENPAID": _wire_date(received),
        "STATE": "Paid",
        "RECORDTYPE": "rp",
        "TRX_TOTALENTERED": str(amount),
        "TRX_TOTALPAID": str(amount),
        "TOTALENTERED": str(amount * Decimal(money["EXCHANGE_RATE"])),
        **money,
    }
    row = call.store.insert(OBJECTS["ARPYMT"], values, call.user_recordno, call.entity)
    for item in node.findall("arpaymentitem"):
        apply_payment(call, text(item, "invoicekey"), _money(text(item, "amount"), "amount"))
    call.transactions += 1
    call.emit(OBJECTS["ARPYMT"], row, "create")
    return f"<key>{row['RECORDNO']}</key>"
