"""A local Dynamics 365 Finance & Operations environment and its Entra ID token service."""

from __future__ import annotations
