"""Creatio simulator: forms/OAuth authentication and the OData 4 service of a Creatio site."""

from __future__ import annotations
