"""REST: jobs, the actions the portal handed to the workers (run now, dry run, backfill, replay).

When the portal runs without a worker in its process, an action answers 202 with a job id;
``GET /api/jobs/{job}`` follows it until a worker has run it, and then holds its result.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from syncloom.portal.auth import Viewer, deps_of
from syncloom.portal.problems import Missing

router = APIRouter(prefix="/jobs", tags=["jobs"])


class Job(BaseModel):
    """One handed-over action: waiting (ENQUEUED), running (PENDING) or ended."""

    job: str
    state: str
    result: Any = None
    error: str | None = None


@router.get("/{job}")
def job(request: Request, me: Viewer, job: str) -> Job:
    """How one of this tenant's actions is doing, with its result once it ended."""
    found = deps_of(request).engine.job(me.tenant_id, job)
    if found is None:
        raise Missing(f"no job {job}")
    return Job(job=found.job, state=found.state, result=found.result, error=found.error)
