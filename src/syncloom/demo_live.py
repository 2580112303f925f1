"""``syncloom demo --live``: a person's edits on both sides of each Solution, every tick.

Each tick renames a Creatio Account in every tenant (CRM -> ERP), and makes one change in
each ERP that its Solution brings back to Creatio: in Sage Intacct a customer's phone number
is edited; in F&O a sales order synced from Creatio is invoiced, an open invoice is paid in
part, or an item's stock moves (the simulator's business actions, as a warehouse or an
accountant would cause them).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from rich.console import Console

from syncloom.connectors.base import Connector, Record
from syncloom.errors import SyncError

__all__ = ["LiveEdits"]

Edit = Callable[[Connector], Awaitable[str | None]]
# Sales order statuses that can still be invoiced (an order the engine just created: None).
OPEN_ORDER_STATUSES = ("None", "Backorder", "Delivered")


@dataclass
class LiveEdits:
    """One round of edits per tick, reported on the console; a failed edit is only reported."""

    node: Any
    tenants: dict[str, int]
    erp_urls: dict[str, str]
    ca_file: str | None
    rng: random.Random
    console: Console

    def tick(self) -> None:
        """Make this tick's edits: one in Creatio and one in the ERP of every tenant."""
        edits: dict[str, Edit] = {"intacct": self.edit_customer, "d365": self.business_event}
        for erp, tenant_id in self.tenants.items():
            connections = self.node.installations[tenant_id].connections
            self._attempt(erp, self.rename_account, connections["creatio"].connector)
            if erp in edits:
                self._attempt(erp, edits[erp], connections[erp].connector)

    def _attempt(self, erp: str, edit: Edit, connector: Connector) -> None:
        try:
            said = self.node.bridge.run(edit(connector))
        except (SyncError, httpx.HTTPError) as exc:
            self.console.print(f"{erp}: live edit failed: {exc}", highlight=False)
            return
        if said:
            self.console.print(f"{erp}: {said}", highlight=False)

    async def rename_account(self, crm: Connector) -> str | None:
        """Rename a random Creatio Account."""
        key = await self._pick(crm, "Account")
        if key is None:
            return None
        name = f"Live edit {self.rng.randint(1000, 9999)}"
        await crm.update("Account", key, {"Name": name})
        return f"renamed Creatio Account {key} to {name!r}"

    async def edit_customer(self, intacct: Connector) -> str | None:
        """Give a random Intacct customer a new phone number."""
        key = await self._pick(intacct, "CUSTOMER")
        if key is None:
            return None
        phone = f"+1 555 {self.rng.randint(100, 999)} {self.rng.randint(1000, 9999)}"
        await intacct.update("CUSTOMER", key, {"DISPLAYCONTACT.PHONE1": phone})
        return f"Intacct customer {key} has a new phone number, {phone}"

    async def business_event(self, d365: Connector) -> str | None:
        """Invoice a sales order, pay an open invoice in part, or move an item's stock."""
        for event in self.rng.sample([self._invoice, self._pay, self._move_stock], 3):
            said = await event(d365)
            if said:
                return said
        return None

    async def _invoice(self, d365: Connector) -> str | None:
        orders: list[Record] = []
        for status in OPEN_ORDER_STATUSES:
            orders += await d365.search("SalesOrderHeadersV2", {"SalesOrderStatus": status})
        if not orders:
            return None
        order = self.rng.choice(orders).values
        body = {k: order[k] for k in ("dataAreaId", "SalesOrderNumber")}
        await self._action("post-invoice", body)
        return f"F&O invoiced sales order {body['SalesOrderNumber']} ({body['dataAreaId']})"

    async def _pay(self, d365: Connector) -> str | None:
        open_items = await d365.search("CustomerOpenTransactions", {"IsSettled": "No"})
        if not open_items:
            return None
        item = self.rng.choice(list(open_items)).values
        amount = round(float(str(item["RemainingAmount"])) / 2, 2)
        body = {"dataAreaId": item["dataAreaId"], "InvoiceNumber": item["InvoiceNumber"]}
        await self._action("post-payment", {**body, "Amount": amount})
        return f"F&O customer paid {amount} of invoice {body['InvoiceNumber']}"

    async def _move_stock(self, d365: Connector) -> str | None:
        key = await self._pick(d365, "WarehousesOnHandV2")
        if key is None:
            return None
        record = await d365.get("WarehousesOnHandV2", key)
        if record is None:
            return None
        stock = record.values
        delta = self.rng.randint(1, 25)
        body = {k: stock[k] for k in ("dataAreaId", "ItemNumber", "InventoryWarehouseId")}
        await self._action("change-onhand", {**body, "Delta": delta})
        return f"F&O received {delta} of item {body['ItemNumber']} in warehouse " + str(
            body["InventoryWarehouseId"]
        )

    async def _pick(self, connector: Connector, entity: str) -> str | None:
        async for page in connector.iter_keys(entity, page_size=200):
            keys = list(page)
            return self.rng.choice(keys) if keys else None
        return None

    async def _action(self, name: str, body: dict[str, Any]) -> None:
        verify: str | bool = self.ca_file or True
        async with httpx.AsyncClient(verify=verify, timeout=10) as client:
            response = await client.post(f"{self.erp_urls['d365']}/_sim/actions/{name}", json=body)
        response.raise_for_status()
