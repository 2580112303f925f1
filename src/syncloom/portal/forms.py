"""Forms: reading a submitted form or JSON body into a pydantic model, naming bad fields."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from syncloom.portal.problems import problems_of

__all__ = ["parse", "read_form"]

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: dict[str, Any]) -> M:
    """Validate ``data`` as ``model``.

    Raises:
        Invalid: naming each bad field (and nothing is saved).
    """
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise problems_of(exc) from None


async def read_form(request: Request) -> dict[str, Any]:
    """The submitted form as a dict (last value wins), without the CSRF field."""
    form = await request.form()
    return {key: value for key, value in form.items() if key != "csrf_token"}
