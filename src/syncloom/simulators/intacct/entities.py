"""Object catalogue of the Intacct simulator, in Intacct's own object and field names.

Each :class:`ObjectDef` says which field is the business id, which fields exist with which
``DATATYPE`` (as ``lookup`` reports them), which are required on create, and whether the
generic ``create`` is certified for the object (``ARINVOICE`` and ``SODOCUMENT`` need the
legacy functions). Field lists include every field sageintacctsdk asks for by default, so its
``get_all()`` works; fields without data come back empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SYSTEM_FIELDS = (
    "WHENCREATED:TIMESTAMP WHENMODIFIED:TIMESTAMP CREATEDBY:INTEGER MODIFIEDBY:INTEGER "
    "MEGAENTITYKEY:INTEGER MEGAENTITYID MEGAENTITYNAME RECORD_URL"
)
CONTACT_PARTS = (
    "CONTACTNAME PREFIX FIRSTNAME INITIAL LASTNAME COMPANYNAME PRINTAS PHONE1 PHONE2 CELLPHONE "
    "PAGER FAX EMAIL1 EMAIL2 URL1 URL2 TAXABLE:BOOLEAN TAXGROUP VISIBLE:BOOLEAN"
)
ADDRESS_PARTS = "ADDRESS1 ADDRESS2 ADDRESS3 CITY STATE ZIP COUNTRY COUNTRYCODE"
CURRENCY_FIELDS = (
    "BASECURR CURRENCY EXCH_RATE_DATE:DATE EXCH_RATE_TYPE_ID EXCHANGE_RATE:DECIMAL "
    "TOTALENTERED:CURRENCY TOTALPAID:CURRENCY TOTALDUE:CURRENCY TRX_TOTALENTERED:CURRENCY "
    "TRX_TOTALPAID:CURRENCY TRX_TOTALDUE:CURRENCY"
)
# The company's user-defined dimensions (UDDs) by object name, with their labels, in the
# order ``getDimensions`` lists them; each is set on transaction lines through GLDIM<name>.
UDDS = {"TEAM": "Team", "CHANNEL": "Sales channel"}
UDD_FIELDS = " ".join(f"GLDIM{name}" for name in UDDS)


def _contact(prefix: str, with_address: bool = True) -> str:
    parts = [f"{prefix}.{p}" for p in CONTACT_PARTS.split()]
    if with_address:
        parts += [f"{prefix}.MAILADDRESS.{p}" for p in ADDRESS_PARTS.split()]
    return " ".join(parts)


def parse_fields(spec: str) -> dict[str, str]:
    """``"A B:DATE"`` → ``{"A": "TEXT", "B": "DATE"}``."""
    out: dict[str, str] = {}
    for token in spec.split():
        name, _, kind = token.partition(":")
        out[name] = kind or "TEXT"
    return out


@dataclass(frozen=True)
class ObjectDef:
    """One Intacct object: its business id, fields with datatypes, and write rules."""

    name: str
    label: str
    id_field: str
    fields: dict[str, str]
    required: tuple[str, ...] = ()
    generic_create: bool = True
    valid_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lines: str | None = None  # owned line object, nested on read with fields=*
    max_length: dict[str, int] = field(default_factory=dict)
    custom: frozenset[str] = frozenset()  # user-defined fields (UDFs) the company added
    line_parent: str | None = None  # on a line object: the field holding the header RECORDNO
    platform: bool = False  # a platform object (a UDD): lower-case id, name, updatedAt...

    def has(self, name: str) -> bool:
        return name in self.fields

    def kind(self, name: str) -> str:
        return self.fields.get(name, "TEXT")


def _obj(
    name: str, label: str, id_field: str, spec: str, required: str = "", **kw: object
) -> ObjectDef:
    fields = parse_fields(f"RECORDNO:INTEGER {spec} {SYSTEM_FIELDS}")
    return ObjectDef(name, label, id_field, fields, tuple(required.split()), **kw)  # type: ignore[arg-type]


STATUS = {"STATUS": ("active", "inactive")}
# User-defined fields on CUSTOMER, as a company adds them under Customization Services: a
# picklist (the seeded world's customer tiers) and a short text.
CUSTOMER_UDFS = "CUSTOMER_TIER REGION_CODE"
CUSTOMER_TIERS = ("Gold", "Silver", "Bronze")

OBJECTS: dict[str, ObjectDef] = {
    o.name: o
    for o in (
        _obj(
            "CUSTOMER",
            "Customer",
            "CUSTOMERID",
            "CUSTOMERID NAME STATUS ENTITY PARENTKEY:INTEGER PARENTID PARENTNAME CUSTREPNAME "
            "CUSTTYPE CUSTREPID TERRITORYID TERMNAME CURRENCY CREDITLIMIT:CURRENCY "
            "TOTALDUE:CURRENCY GLGRPKEY:INTEGER GLGROUP TAXID RESALENO ARACCOUNT COMMENTS "
            "ONETIME:BOOLEAN ONHOLD:BOOLEAN OBJECTRESTRICTION SHIPPINGMETHOD PRICELIST "
            "LAST_INVOICEDATE:DATE "
            + _contact("DISPLAYCONTACT")
            + " "
            + _contact("CONTACTINFO", False)
            + " "
            + _contact("SHIPTO", False)
            + " "
            + _contact("BILLTO", False)
            + " "
            + CUSTOMER_UDFS,
            "CUSTOMERID NAME",
            valid_values={**STATUS, "CUSTOMER_TIER": CUSTOMER_TIERS},
            max_length={"CUSTOMERID": 20, "NAME": 100, "REGION_CODE": 10},
            custom=frozenset(CUSTOMER_UDFS.split()),
        ),
        _obj(
            "VENDOR",
            "Vendor",
            "VENDORID",
            "VENDORID NAME STATUS PARENTKEY:INTEGER PARENTID PARENTNAME VENDORACCOUNTNO VENDTYPE "
            "ACCOUNTLABEL APACCOUNT APACCOUNTTITLE TERMNAME CURRENCY TAXID ONHOLD:BOOLEAN "
            "CREDITLIMIT:CURRENCY TOTALDUE:CURRENCY " + _contact("DISPLAYCONTACT"),
            "VENDORID NAME",
            valid_values=STATUS,
        ),
        _obj(
            "CONTACT",
            "Contact",
            "CONTACTNAME",
            CONTACT_PARTS
            + " STATUS TAXSCHEDULE TAXSOLUTIONID "
            + " ".join(f"MAILADDRESS.{p}" for p in ADDRESS_PARTS.split()),
            "CONTACTNAME PRINTAS",
            valid_values=STATUS,
        ),
        _obj(
            "EMPLOYEE",
            "Employee",
            "EMPLOYEEID",
            "EMPLOYEEID SSN TITLE LOCATIONID DEPARTMENTID CLASSID BIRTHDATE:DATE STARTDATE:DATE "
            "ENDDATE:DATE STATUS EMPLOYEETYPE EMPLOYEETYPE1099TYPE GENDER TERMINATIONTYPE "
            "SUPERVISORID CURRENCY PAYMETHODKEY CONTACTKEY:INTEGER " + _contact("CONTACT"),
            "EMPLOYEEID",
            valid_values=STATUS,
        ),
        _obj(
            "ITEM",
            "Item",
            "ITEMID",
            "ITEMID NAME STATUS MRR:BOOLEAN EXTENDED_DESCRIPTION PRODUCTLINEID GLGROUP ITEMTYPE "
            "BASEPRICE:CURRENCY STANDARD_COST:CURRENCY UOMGRP BASEUOM",
            "ITEMID NAME ITEMTYPE",
            valid_values={
                **STATUS,
                "ITEMTYPE": (
                    "Inventory",
                    "Non-Inventory",
                    "Non-Inventory (Purchase only)",
                    "Non-Inventory (Sales only)",
                    "Kit",
                    "Stockable Kit",
                ),
            },
        ),
        _obj(
            "GLACCOUNT",
            "GL Account",
            "ACCOUNTNO",
            "ACCOUNTNO TITLE ACCOUNTTYPE NORMALBALANCE CLOSINGTYPE STATUS CATEGORY "
            "ALTERNATIVEACCOUNT REQUIREDEPT:BOOLEAN REQUIRELOC:BOOLEAN",
            "ACCOUNTNO TITLE",
        ),
        _obj(
            "DEPARTMENT",
            "Department",
            "DEPARTMENTID",
            "DEPARTMENTID TITLE PARENTKEY:INTEGER PARENTID SUPERVISORID SUPERVISORNAME STATUS "
            "CUSTTITLE",
            "DEPARTMENTID TITLE",
        ),
        _obj(
            "LOCATION",
            "Location",
            "LOCATIONID",
            "LOCATIONID NAME PARENTID SUPERVISORID STATUS CURRENCY STARTDATE:DATE ENDDATE:DATE "
            "CUSTTITLE",
            "LOCATIONID NAME",
        ),
        _obj(
            "LOCATIONENTITY",
            "Entity",
            "LOCATIONID",
            "LOCATIONID NAME STATUS CURRENCY OPCOUNTRY",
            "LOCATIONID NAME",
        ),
        _obj(
            "PROJECT",
            "Project",
            "PROJECTID",
            "PROJECTID NAME DESCRIPTION CURRENCY PROJECTCATEGORY PROJECTSTATUS PARENTKEY:INTEGER "
            "PARENTID PARENTNAME STATUS CUSTOMERKEY:INTEGER CUSTOMERID CUSTOMERNAME PROJECTTYPE "
            "DEPARTMENTID DEPARTMENTNAME LOCATIONID LOCATIONNAME BUDGETID BEGINDATE:DATE "
            "ENDDATE:DATE",
            "PROJECTID NAME PROJECTCATEGORY",
        ),
        _obj(
            "CLASS",
            "Class",
            "CLASSID",
            "CLASSID NAME DESCRIPTION STATUS PARENTKEY:INTEGER PARENTID PARENTNAME",
            "CLASSID NAME",
        ),
        _obj(
            "ARINVOICE",
            "AR Invoice",
            "RECORDID",
            "RECORDID STATE RECORDTYPE CUSTOMERID CUSTOMERNAME DOCNUMBER DESCRIPTION TERMNAME "
            "WHENPOSTED:DATE WHENDUE:DATE WHENPAID:DATE WHENDISCOUNT:DATE PRBATCH MODULEKEY "
            "TOTALSELECTED:CURRENCY AUWHENCREATED:TIMESTAMP SYSTEMGENERATED "
            "BILLTOPAYTOCONTACTNAME SHIPTORETURNTOCONTACTNAME EXTERNALID " + CURRENCY_FIELDS,
            "CUSTOMERID",
            generic_create=False,
            lines="ARINVOICEITEM",
        ),
        _obj(
            "ARINVOICEITEM",
            "AR Invoice Detail",
            "RECORDNO",
            "RECORDKEY:INTEGER LINE_NO:INTEGER ACCOUNTNO OFFSETGLACCOUNTNO AMOUNT:CURRENCY "
            "TRX_AMOUNT:CURRENCY ENTRYDESCRIPTION DEPARTMENTID LOCATIONID CLASSID PROJECTID "
            "CUSTOMERID ITEMID CURRENCY BASECURR EXCHANGE_RATE:DECIMAL " + UDD_FIELDS,
            generic_create=False,
            line_parent="RECORDKEY",
        ),
        _obj(
            "SODOCUMENT",
            "Sales Order",
            "DOCID",
            "DOCID DOCNO DOCPARID STATE PRRECORDKEY:INTEGER WHENPOSTED:DATE WHENDUE:DATE "
            "TERM.NAME MESSAGE PONUMBER CUSTVENDID CUSTVENDNAME CURRENCY BASECURR "
            "EXCH_RATE_TYPE_ID EXCHANGE_RATE:DECIMAL TOTAL:CURRENCY TRX_TOTAL:CURRENCY "
            "TRX_TOTALPAID:CURRENCY "
            "EXTERNALID",
            "CUSTVENDID",
            generic_create=False,
            lines="SODOCUMENTENTRY",
        ),
        _obj(
            "SODOCUMENTENTRY",
            "Sales Order Detail",
            "RECORDNO",
            "DOCHDRNO:INTEGER DOCHDRID SALE_PUR_TRANS LINE_NO:INTEGER MEMO ITEMID ITEMDESC "
            "QUANTITY:DECIMAL UNIT PRICE:CURRENCY TOTAL:CURRENCY LOCATIONID DEPARTMENTID "
            "PROJECTID " + UDD_FIELDS,
            generic_create=False,
            line_parent="DOCHDRNO",
        ),
        _obj(
            "ARPYMT",
            "AR Payment",
            "RECORDNO",
            "PRBATCHKEY:INTEGER RECORDTYPE RECORDID FINANCIALENTITY FINANCIALENTITYTYPE "
            "FINANCIALACCOUNTNAME UNDEPOSITEDACCOUNTNO STATE DISPLAYSTATE PAYMENTMETHOD "
            "CUSTOMERID CUSTOMERNAME PAYERNAME DOCNUMBER DESCRIPTION RECEIPTDATE:DATE "
            "WHENPAID:DATE PAYMENTDATE:DATE CLEARED CLRDATE:DATE AUWHENCREATED:TIMESTAMP "
            "AMOUNTTOPAY:CURRENCY TRX_AMOUNTTOPAY:CURRENCY " + CURRENCY_FIELDS,
            "CUSTOMERID PAYMENTMETHOD",
        ),
    )
}

# User-defined dimensions are platform objects: lower-case system fields, keyed by ``id`` (the
# record number), set on transaction lines through their GLDIM<name> relationship field.
PLATFORM_FIELDS = "id:INTEGER name createdBy createdAt:TIMESTAMP updatedBy updatedAt:TIMESTAMP"
OBJECTS.update(
    {
        name: ObjectDef(
            name,
            label,
            "id",
            parse_fields(f"{PLATFORM_FIELDS} RECORD_URL"),
            ("name",),
            platform=True,
        )
        for name, label in UDDS.items()
    }
)

LINE_CONTAINERS = {"ARINVOICEITEM": "ARINVOICEITEMS", "SODOCUMENTENTRY": "SODOCUMENTENTRIES"}


def find_object(name: str) -> ObjectDef | None:
    """The object called ``name`` (Intacct object names are case-insensitive)."""
    return OBJECTS.get(name.upper())
