"""Logging: structlog as JSON or console lines, with secrets masked before anything is written.

Why mask in the logger and not at each call site? A password reaches a log line by accident
(a whole request body, a vendor's error text echoing a session id, an exception repr), so the
last processor before the renderer masks by key name and by value shape: any field whose name
looks secret becomes ``***``, and bearer tokens, JWTs and cookie or query-string secrets inside
any string are masked too. Lines from the standard library's loggers (uvicorn, httpx) go
through the same processors.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, Literal, TextIO

import structlog

__all__ = ["MASK", "configure_logging", "get_logger", "is_secret_name", "mask_text", "redact"]

MASK = "***"

_SECRET_NAME = re.compile(
    r"pass(word|wd|phrase)?|secret|token|authori[sz]ation|cookie|session_?id|bpmcsrf|aspxauth"
    r"|credential|private|signature|api_?key|master_?key|^key$|_key$",
    re.IGNORECASE,
)
# Names that merely contain a secret-looking word: identifiers of records, not secrets.
_NOT_SECRET_NAMES = frozenset(
    {
        "record_key",
        "crm_key",
        "erp_key",
        "pending_key",
        "partition_key",
        "idempotency_key",
        "source_key",
        "target_key",
        "tokens",
        "token_count",
        "credentials_key_id",
    }
)
# Libraries whose INFO lines are noise to an operator.
_QUIET_LOGGERS = {"alembic": logging.WARNING}
_VALUE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: Bearer <token> / Basic <base64>
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {MASK}"),
    # A JWT anywhere (three base64url parts, the first starting with a JSON header).
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), MASK),
    # name=value in cookies, query strings and form bodies; "name": "value" in JSON text.
    (
        re.compile(
            r"(?i)((?:bpmcsrf|\.?aspxauth|bpmloader|sessionid|session_id|password|passwd"
            r"|client_secret|access_token|refresh_token|id_token|api_?key|token|secret)"
            r"\"?\s*[=:]\s*\"?)([^\"&;,\s]+)"
        ),
        rf"\1{MASK}",
    ),
)


def is_secret_name(name: str) -> bool:
    """Whether a field called ``name`` holds a secret (``password``, ``BPMCSRF``, ``api_key``)."""
    lowered = name.lower().replace("-", "_")
    return lowered not in _NOT_SECRET_NAMES and _SECRET_NAME.search(lowered) is not None


def mask_text(text: str) -> str:
    """Mask secret-shaped substrings (bearer tokens, JWTs, ``password=...``) in free text."""
    for pattern, replacement in _VALUE_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {key: _redact_item(str(key), item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(item) for item in value]
    return value


def _redact_item(name: str, value: Any) -> Any:
    if is_secret_name(name) and value not in (None, ""):
        return MASK
    return _redact_value(value)


def redact(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The structlog processor that masks secrets by field name and by value shape."""
    for name, value in list(event_dict.items()):
        event_dict[name] = _redact_item(name, value)
    return event_dict


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        # Render tracebacks to text first, so the masking below sees them too.
        structlog.processors.format_exc_info,
        redact,
    ]


def configure_logging(
    log_format: Literal["json", "console"] = "console",
    level: str = "INFO",
    *,
    stream: TextIO | None = None,
) -> None:
    """Send structlog and standard-library logging to ``stream`` (stderr) in one format.

    Args:
        log_format: ``json`` (one object per line) or ``console`` (aligned, for people).
        level: the lowest level written.
        stream: where lines go; stderr by default.
    """
    renderer: Any
    if log_format == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name, quiet_level in _QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(quiet_level, root.level))
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str | None = None, **context: Any) -> Any:
    """A structlog logger, optionally bound to ``context`` (``flow=..., record_key=...``)."""
    return structlog.get_logger(name).bind(**context)
