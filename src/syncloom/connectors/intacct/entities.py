"""Intacct objects as syncloom entities: keys, fields and how each one is written.

Record keys are business ids the engine can choose before a create (``CUSTOMERID``,
``VENDORID``, ``ITEMID``, ``CONTACTNAME``, ``EMPLOYEEID``, ``ACCOUNTNO``...), never the
server-assigned ``RECORDNO``: a retried create with the same id then fails with Intacct's
``BL34000061`` and becomes AlreadyExistsError instead of a second record. Objects without a
client-chosen id (``ARINVOICE``, ``ARPYMT``) are keyed by ``RECORDNO``; ``SODOCUMENT`` by its
``DOCID`` (``<transaction type>-<document number>``), which the caller fixes by choosing the
document number.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from syncloom.connectors.base import DeletePolicy, EntitySpec, FieldSpec, FieldType

T = FieldType
SYSTEM_FIELDS = "RECORDNO:i WHENCREATED:t WHENMODIFIED:t CREATEDBY MODIFIEDBY MEGAENTITYID"
KINDS = {"s": T.STRING, "i": T.INTEGER, "d": T.DECIMAL, "b": T.BOOLEAN, "D": T.DATE}
KINDS |= {"t": T.DATETIME, "e": T.ENUM, "L": T.LINES}
READ_ONLY = {"RECORDNO", "WHENCREATED", "WHENMODIFIED", "CREATEDBY", "MODIFIEDBY", "MEGAENTITYID"}
# Platform objects (user-defined dimensions) name their system fields in lower camel case.
PLATFORM_FIELDS = "id:i name createdBy createdAt:t updatedBy updatedAt:t"
PLATFORM_READ_ONLY = {"id", "createdBy", "createdAt", "updatedBy", "updatedAt"}


def _fields(spec: str, required: str) -> tuple[FieldSpec, ...]:
    wanted = set(required.split())
    out = []
    for token in f"{spec} {SYSTEM_FIELDS}".split():
        name, _, kind = token.partition(":")
        out.append(
            FieldSpec(
                name,
                KINDS[kind or "s"],
                required=name in wanted,
                read_only=name in READ_ONLY,
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class IntacctEntity:
    """One Intacct object: its key field, fields and write style.

    Attributes:
        name: the Intacct object name (``CUSTOMER``).
        key_field: the field that holds the record key (business id or ``RECORDNO``).
        fields: the declared fields, read names (dotted for nested groups).
        writer: ``generic`` (create/update), or the legacy function creating it.
        lines_field: the values key holding document lines, for legacy writers.
        dimension_lines: a document line object, which carries the company's user-defined
            dimensions as ``GLDIM<name>`` fields.
    """

    name: str
    key_field: str
    fields: tuple[FieldSpec, ...]
    writer: str = "generic"
    delete_policy: DeletePolicy = DeletePolicy.DELETE
    lines_field: str | None = None
    recordno_field: str = "RECORDNO"
    modified_field: str = "WHENMODIFIED"
    modified_by_field: str = "MODIFIEDBY"
    dimension_lines: bool = False

    @cached_property
    def spec(self) -> EntitySpec:
        """This entity as an EntitySpec (built once: the entity is immutable)."""
        return EntitySpec(
            name=self.name,
            key_fields=(self.key_field,),
            modified_field=self.modified_field,
            fields=self.fields,
            delete_policy=self.delete_policy,
            batch_size=100,
        )

    @property
    def read_fields(self) -> list[str]:
        """The fields read from Intacct (lines excluded)."""
        return [f.name for f in self.fields if f.type is not FieldType.LINES]

    def kind(self, name: str) -> FieldType:
        """The declared type of ``name``."""
        spec = self.spec.field(name)
        return spec.type if spec else FieldType.STRING

    @cached_property
    def field_names(self) -> frozenset[str]:
        """The names of the declared fields; asked once per value a record carries."""
        return frozenset(f.name for f in self.fields)

    @property
    def server_keyed(self) -> bool:
        """True when Intacct assigns the key (RECORDNO, or a platform object's ``id``)."""
        return self.key_field == self.recordno_field


CONTACT = "CONTACTNAME PRINTAS COMPANYNAME FIRSTNAME LASTNAME EMAIL1 PHONE1 TAXGROUP"
ADDRESS = "ADDRESS1 CITY STATE ZIP COUNTRYCODE"


def _nested(prefix: str, names: str) -> str:
    return " ".join(f"{prefix}.{n}" for n in names.split())


def dimension_entity(name: str) -> IntacctEntity:
    """A user-defined dimension (UDD): a platform object keyed by its ``id``, read-only here."""
    fields = tuple(
        FieldSpec(
            token.partition(":")[0],
            KINDS[token.partition(":")[2] or "s"],
            required=token == "name",
            read_only=token.partition(":")[0] in PLATFORM_READ_ONLY,
        )
        for token in PLATFORM_FIELDS.split()
    )
    return IntacctEntity(
        name,
        "id",
        fields,
        writer="none",
        delete_policy=DeletePolicy.NONE,
        recordno_field="id",
        modified_field="updatedAt",
        modified_by_field="updatedBy",
    )


# The company's user-defined dimensions are not declared here: the connector asks for them
# (``getDimensions``, see dimensions.py), adds each as an entity built by dimension_entity, and
# gives the line entities below a GLDIM<name> field per dimension.


def _entity(name: str, key: str, spec: str, required: str = "", **kw: object) -> IntacctEntity:
    return IntacctEntity(name, key, _fields(spec, f"{key} {required}"), **kw)  # type: ignore[arg-type]


ENTITIES: dict[str, IntacctEntity] = {
    e.name: e
    for e in (
        _entity(
            "CUSTOMER",
            "CUSTOMERID",
            "CUSTOMERID NAME STATUS:e TERMNAME CURRENCY CREDITLIMIT:d TOTALDUE:d TAXID "
            "CUSTTYPE PARENTID ONHOLD:b ONETIME:b "
            "TERRITORYID CUSTREPID "
            + _nested("DISPLAYCONTACT", CONTACT)
            + " "
            + _nested("DISPLAYCONTACT.MAILADDRESS", ADDRESS),
            "NAME",
        ),
        _entity(
            "VENDOR",
            "VENDORID",
            "VENDORID NAME STATUS:e TERMNAME CURRENCY VENDTYPE TAXID ONHOLD:b "
            + _nested("DISPLAYCONTACT", CONTACT),
            "NAME",
        ),
        _entity(
            "CONTACT",
            "CONTACTNAME",
            "CONTACTNAME PRINTAS COMPANYNAME FIRSTNAME LASTNAME EMAIL1 PHONE1 STATUS:e "
            "TAXABLE:b " + _nested("MAILADDRESS", ADDRESS),
            "PRINTAS",
        ),
        _entity(
            "EMPLOYEE",
            "EMPLOYEEID",
            "EMPLOYEEID TITLE STATUS:e DEPARTMENTID LOCATIONID CLASSID CURRENCY STARTDATE:D "
            "ENDDATE:D " + _nested("CONTACT", "CONTACTNAME FIRSTNAME LASTNAME EMAIL1"),
        ),
        _entity(
            "ITEM",
            "ITEMID",
            "ITEMID NAME STATUS:e ITEMTYPE:e BASEPRICE:d STANDARD_COST:d PRODUCTLINEID "
            "EXTENDED_DESCRIPTION BASEUOM",
            "NAME ITEMTYPE",
        ),
        _entity(
            "GLACCOUNT", "ACCOUNTNO", "ACCOUNTNO TITLE ACCOUNTTYPE NORMALBALANCE STATUS:e", "TITLE"
        ),
        _entity("DEPARTMENT", "DEPARTMENTID", "DEPARTMENTID TITLE PARENTID STATUS:e", "TITLE"),
        _entity("LOCATION", "LOCATIONID", "LOCATIONID NAME PARENTID STATUS:e CURRENCY", "NAME"),
        _entity(
            "PROJECT",
            "PROJECTID",
            "PROJECTID NAME PROJECTCATEGORY PROJECTSTATUS STATUS:e CUSTOMERID DEPARTMENTID "
            "LOCATIONID CURRENCY BEGINDATE:D ENDDATE:D",
            "NAME PROJECTCATEGORY",
        ),
        _entity("CLASS", "CLASSID", "CLASSID NAME DESCRIPTION PARENTID STATUS:e", "NAME"),
        _entity(
            "ARINVOICE",
            "RECORDNO",
            "RECORDID STATE CUSTOMERID DESCRIPTION TERMNAME WHENPOSTED:D WHENDUE:D WHENPAID:D "
            "BASECURR CURRENCY EXCHANGE_RATE:d EXCH_RATE_TYPE_ID EXCH_RATE_DATE:D "
            "TOTALENTERED:d TOTALPAID:d TOTALDUE:d "
            "TRX_TOTALENTERED:d TRX_TOTALPAID:d TRX_TOTALDUE:d EXTERNALID lines:L",
            "CUSTOMERID",
            writer="create_invoice",
            lines_field="lines",
            delete_policy=DeletePolicy.NONE,
        ),
        _entity(
            "SODOCUMENT",
            "DOCID",
            "DOCID DOCNO DOCPARID STATE CUSTVENDID MESSAGE PONUMBER CURRENCY BASECURR "
            "EXCHANGE_RATE:d EXCH_RATE_TYPE_ID TOTAL:d TRX_TOTAL:d EXTERNALID lines:L",
            "CUSTVENDID DOCPARID",
            writer="create_sotransaction",
            lines_field="lines",
            delete_policy=DeletePolicy.NONE,
        ),
        _entity(
            "ARPYMT",
            "RECORDNO",
            "CUSTOMERID PAYMENTMETHOD FINANCIALENTITY DOCNUMBER RECEIPTDATE:D STATE BASECURR "
            "CURRENCY EXCHANGE_RATE:d TOTALENTERED:d TRX_TOTALENTERED:d lines:L",
            "CUSTOMERID PAYMENTMETHOD",
            writer="create_arpayment",
            lines_field="lines",
            delete_policy=DeletePolicy.NONE,
        ),
        # Document lines, read on their own; they are written with their document (``lines``).
        _entity(
            "ARINVOICEITEM",
            "RECORDNO",
            "RECORDKEY:i LINE_NO:i ACCOUNTNO OFFSETGLACCOUNTNO AMOUNT:d TRX_AMOUNT:d "
            "ENTRYDESCRIPTION DEPARTMENTID LOCATIONID CLASSID PROJECTID CUSTOMERID ITEMID "
            "CURRENCY BASECURR EXCHANGE_RATE:d",
            writer="none",
            delete_policy=DeletePolicy.NONE,
            dimension_lines=True,
        ),
        _entity(
            "SODOCUMENTENTRY",
            "RECORDNO",
            "DOCHDRNO:i DOCHDRID LINE_NO:i MEMO ITEMID ITEMDESC QUANTITY:d UNIT PRICE:d TOTAL:d "
            "LOCATIONID DEPARTMENTID PROJECTID",
            writer="none",
            delete_policy=DeletePolicy.NONE,
            dimension_lines=True,
        ),
    )
}
