"""Fresh, empty databases for tests: a temp SQLite file, or a uniquely named PostgreSQL schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg


@contextmanager
def fresh_sqlite(directory: Path) -> Iterator[str]:
    yield f"sqlite:///{directory / f'{uuid.uuid4().hex[:8]}.db'}"


@contextmanager
def fresh_pg_schema(pg_url: str) -> Iterator[str]:
    """A new schema that the returned URL's connections use by default; dropped afterwards."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in pg_url else "?"
    try:
        yield f"{pg_url}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
