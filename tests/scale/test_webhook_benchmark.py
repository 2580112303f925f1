"""The webhook benchmark end to end, small: edits reach the target through ``syncloom run``.

``syncloom run`` is a real process on a SQLite file, taking the Creatio simulator's signed
notices at its intake; every edit must reach the Intacct customer (its echo included), and the
benchmark must say so. A few edits a second for two seconds: this checks the path the figures
in docs/benchmarks.md come from, never how fast it is.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from benchmarks import webhook_latency

from syncloom.store import make_engine
from syncloom.store.models import RecordLogEntry

pytestmark = pytest.mark.e2e


def test_every_edit_reaches_the_target_through_syncloom_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = webhook_latency.main(["--rate", "5", "--seconds", "2", "--keep", str(tmp_path)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "10 of 10 edits written" in printed
    assert "Traceback" not in (tmp_path / "run.log").read_text(errors="replace")
    engine = make_engine(f"sqlite:///{tmp_path / 'syncloom.db'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.select(RecordLogEntry.record_key, RecordLogEntry.action)).all()
    engine.dispose()
    # One customer written per edit; the echo of each write-back read and skipped, not written.
    writes = Counter(key for key, action in rows if action in ("created", "updated"))
    assert len(writes) == 10
    assert set(writes.values()) == {1}
    assert any(action == "skipped" for _, action in rows)
