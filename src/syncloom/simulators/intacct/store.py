"""The Intacct simulator's records: one table per object, keyed by server-assigned RECORDNO.

Values are kept in wire form (strings, ``mm/dd/yyyy`` dates, ``mm/dd/yyyy hh:mm:ss``
timestamps in the company's time zone) under their read names, dotted for nested groups. A
business-id index per object enforces unique ids, as Intacct does.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from syncloom.simulators.common.seed import (
    CHANNELS,
    DEPARTMENTS,
    LEGAL_ENTITIES,
    PROJECTS,
    TEAMS,
    SeedWorld,
)
from syncloom.simulators.common.store import Row, SimStore
from syncloom.simulators.intacct.entities import OBJECTS, ObjectDef

TIMESTAMP_FORMAT = "%m/%d/%Y %H:%M:%S"
DATE_FORMAT = "%m/%d/%Y"
TERMS = {"Net30": "N30", "Net60": "N60", "Net10": "N10", "DueOnReceipt": "Due on receipt"}


class IntacctStore:
    """Tables of Intacct records with a business-id index and a RECORDNO sequence."""

    def __init__(self, now: Callable[[], datetime], tz: str, path: str | None = None) -> None:
        self.now = now
        self.tz = ZoneInfo(tz)
        self.rows = SimStore(path)
        self._ids: dict[str, dict[str, str]] = {}
        self._seq = itertools.count(1)
        self._reindex()

    def _reindex(self) -> None:
        self._ids = {name: {} for name in OBJECTS}
        top = 0
        for name, obj in OBJECTS.items():
            for row in self.rows.rows(name):
                top = max(top, int(row["RECORDNO"]))
                if obj.id_field != "RECORDNO" and row.get(obj.id_field):
                    self._ids[name][row[obj.id_field]] = row["RECORDNO"]
        self._seq = itertools.count(top + 1)

    def stamp(self) -> str:
        """Now, as Intacct writes ``WHENMODIFIED``: company wall-clock, one-second resolution."""
        return self.now().astimezone(self.tz).strftime(TIMESTAMP_FORMAT)

    def today(self) -> str:
        return self.now().astimezone(self.tz).strftime(DATE_FORMAT)

    # -- lookups ---------------------------------------------------------------------------
    def by_recordno(self, obj: ObjectDef, recordno: str) -> Row | None:
        return self.rows.table(obj.name).get(recordno)

    def by_id(self, obj: ObjectDef, ident: str) -> Row | None:
        if obj.id_field == "RECORDNO":
            return self.by_recordno(obj, ident)
        recordno = self._ids[obj.name].get(ident)
        return self.by_recordno(obj, recordno) if recordno else None

    def all(self, obj: ObjectDef) -> Iterator[Row]:
        return self.rows.rows(obj.name)

    def count(self, obj: ObjectDef) -> int:
        return len(self.rows.table(obj.name))

    # -- writes ----------------------------------------------------------------------------
    def insert(self, obj: ObjectDef, values: dict[str, str], user: str, entity: str) -> Row:
        """Store a new record; the caller has checked the business id is free."""
        recordno = str(next(self._seq))
        stamp = self.stamp()
        row: Row = {
            **values,
            "RECORDNO": recordno,
            "WHENCREATED": values.get("WHENCREATED") or stamp,
            "WHENMODIFIED": stamp,
            "CREATEDBY": user,
            "MODIFIEDBY": user,
            "MEGAENTITYKEY": _entity_key(entity),
            "MEGAENTITYID": entity,
            "MEGAENTITYNAME": _entity_name(entity),
            "RECORD_URL": f"https://www.intacct.com/ia/acct/ur.phtml?.r={recordno}",
        }
        if obj.id_field == "RECORDNO":
            row["RECORDNO"] = recordno
        if obj.platform:
            row.update(
                id=recordno, createdAt=stamp, updatedAt=stamp, createdBy=user, updatedBy=user
            )
        self.rows.put(obj.name, recordno, row)
        if obj.id_field != "RECORDNO" and row.get(obj.id_field):
            self._ids[obj.name][row[obj.id_field]] = recordno
        return row

    def change(self, obj: ObjectDef, row: Row, values: dict[str, str], user: str) -> Row:
        """Apply ``values`` to ``row``; an empty string clears a field."""
        changed = {**row, **values, "WHENMODIFIED": self.stamp(), "MODIFIEDBY": user}
        if obj.platform:
            changed.update(updatedAt=changed["WHENMODIFIED"], updatedBy=user)
        self.rows.put(obj.name, row["RECORDNO"], changed)
        return changed

    def remove(self, obj: ObjectDef, row: Row) -> None:
        self.rows.delete(obj.name, row["RECORDNO"])
        if obj.id_field != "RECORDNO":
            self._ids[obj.name].pop(row.get(obj.id_field, ""), None)

    # -- seed ------------------------------------------------------------------------------
    def reseed(self, seed: int, records: int) -> None:
        """Back to the seeded world: customers, contacts, items and dimensions."""
        self.rows.clear()
        self._reindex()
        world = SeedWorld(seed)
        companies = world.companies(records)
        put = self._seed_put
        for code, title in DEPARTMENTS.items():
            put("DEPARTMENT", {"DEPARTMENTID": code, "TITLE": title, "STATUS": "active"})
        for info in LEGAL_ENTITIES.values():
            base = {"LOCATIONID": info["intacct"], "NAME": info["name"], "STATUS": "active"}
            put("LOCATION", {**base, "CURRENCY": info["currency"]})
            put("LOCATIONENTITY", {**base, "CURRENCY": info["currency"], "OPCOUNTRY": ""})
        for code, (name, entity) in PROJECTS.items():
            put("PROJECT", _project(code, name, LEGAL_ENTITIES[entity]))
        for team in TEAMS:
            put("TEAM", {"name": team})
        for account, title in (("4000", "Sales revenue"), ("1200", "Accounts receivable")):
            put("GLACCOUNT", {"ACCOUNTNO": account, "TITLE": title, "STATUS": "active"})
        for company in companies:
            put("CUSTOMER", _customer(company))
        for person in world.people(companies[:1000], per_company=1):
            put("CONTACT", _contact(person))
        for product in world.products(max(10, min(records, 1000))):
            put("ITEM", _item(product))
        # Seeded last, so the record numbers of everything above stay as they were.
        for channel in CHANNELS:
            put("CHANNEL", {"name": channel})

    def _seed_put(self, name: str, values: dict[str, str]) -> None:
        self.insert(OBJECTS[name], values, "1", "")


def _entity_key(entity: str) -> str:
    return {"E100": "1", "E200": "2"}.get(entity, "")


def _entity_name(entity: str) -> str:
    names = {info["intacct"]: info["name"] for info in LEGAL_ENTITIES.values()}
    return names.get(entity, "")


def _project(code: str, name: str, entity: dict[str, str]) -> dict[str, str]:
    return {
        "PROJECTID": code,
        "NAME": name,
        "PROJECTCATEGORY": "Contract",
        "PROJECTSTATUS": "In Progress",
        "STATUS": "active",
        "LOCATIONID": entity["intacct"],
        "CURRENCY": entity["currency"],
    }


def _customer(company: object) -> dict[str, str]:
    c = company.__dict__
    return {
        "CUSTOMERID": f"C{c['number']:05d}",
        "NAME": c["name"],
        "STATUS": "active",
        "TERMNAME": TERMS.get(c["payment_terms"], "N30"),
        "CURRENCY": c["currency"],
        "CREDITLIMIT": str(c["credit_limit"]),
        "TAXID": c["tax_id"],
        "ONETIME": "false",
        "ONHOLD": "false",
        "DISPLAYCONTACT.CONTACTNAME": f"{c['name']} (C{c['number']:05d})",
        "DISPLAYCONTACT.PRINTAS": c["name"],
        "DISPLAYCONTACT.COMPANYNAME": c["name"],
        "DISPLAYCONTACT.EMAIL1": c["email"],
        "DISPLAYCONTACT.PHONE1": c["phone"],
        "DISPLAYCONTACT.MAILADDRESS.ADDRESS1": c["address"],
        "DISPLAYCONTACT.MAILADDRESS.CITY": c["city"],
        "DISPLAYCONTACT.MAILADDRESS.ZIP": c["zip"],
        "DISPLAYCONTACT.MAILADDRESS.COUNTRYCODE": c["country"],
        "CUSTOMER_TIER": c["tier"],
    }


def _contact(person: object) -> dict[str, str]:
    p = person.__dict__
    name = f"{p['last_name']}, {p['first_name']} ({p['number']})"
    return {
        "CONTACTNAME": name,
        "PRINTAS": f"{p['first_name']} {p['last_name']}",
        "FIRSTNAME": p["first_name"],
        "LASTNAME": p["last_name"],
        "EMAIL1": p["email"],
        "PHONE1": p["phone"],
        "STATUS": "active",
        "TAXABLE": "false",
    }


def _item(product: object) -> dict[str, str]:
    p = product.__dict__
    return {
        "ITEMID": p["number"],
        "NAME": p["name"],
        "STATUS": "active",
        "ITEMTYPE": "Non-Inventory",
        "BASEPRICE": str(p["price"]),
        "BASEUOM": p["unit"],
    }
