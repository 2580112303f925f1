"""What every chaos test's workers share."""

from __future__ import annotations

import pytest

# A round is judged within minutes, with faults on until its end: a record job that failed a
# few times in a row must not wait an hour-long backoff before its next attempt. Operators set
# the same cap (SYNCLOOM_RETRY_CAP_S) where outages are short and freshness matters.
RETRY_CAP_S = "10"


@pytest.fixture(autouse=True)
def short_retry_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers spawned by a chaos test inherit a 10-second cap on retry backoff."""
    monkeypatch.setenv("SYNCLOOM_RETRY_CAP_S", RETRY_CAP_S)
