"""Scheduled jobs: idempotent use cases run once at a time under a lock, each run recorded."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from factoryshare.access import Actor
from factoryshare.models import Role
from factoryshare.models.jobs import JobRun


def list_runs(session: Session, actor: Actor, job: str | None = None) -> Select[Any]:
    """Job runs, latest first (admins only)."""
    actor.require(Role.admin)
    stmt = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc())
    if job:
        stmt = stmt.where(JobRun.job == job)
    return stmt
