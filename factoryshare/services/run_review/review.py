"""A schedule run request by request, its on-time share and machine cost, and what
publishing it would do now.

Per production request of a run (the jobs of its problem, plus the requests no active machine
could make): member, product, quantity, due, planned start and finish (the first start and
the last end of its assignments in this run), lateness in whole minutes (0 when on time) and
machine cost. For a request the run left out: the reason as a kind (solving.WHY_NOT_PLACED,
read from this run's KPIs) and in words, with what would place it (suggestions.py).

Machine cost of a request: the sum over its assignments of working minutes x the machine's
hourly rate / 60, each assignment rounded to whole rupiah half to even. Working minutes are
the machine's open minutes inside the assignment (its end minus its start, except for a step
that pauses while the machine is closed, which works only in the open minutes it spans).

On-time share of a run: the requests placed whose last step ends by their due date, over
ALL requests of the run (one left out is not on time).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare.access import Actor, get_scoped, managed_house
from factoryshare.models import Machine, Member, ProductionHouse
from factoryshare.models.scheduling import (
    ProductionRequest,
    RunStatus,
    ScheduleAssignment,
    ScheduleRun,
)
from factoryshare.services import calendar, solving
from factoryshare.services.run_review.common import (
    house_time,
    rupiah_for,
    why_words,
)
from factoryshare.services.run_review.suggestions import suggestions


def _windows(run: ScheduleRun) -> dict[int, list[tuple[int, int]]]:
    """Each machine's open windows in the run's problem (minutes from its horizon start)."""
    found: dict[int, list[tuple[int, int]]] = {}
    for m in (run.problem or {}).get("machines", []):
        found[solving.machine_id_of(m["id"])] = [(int(s), int(e)) for s, e in m.get("open", [])]
    return found


def _working_minutes(
    run: ScheduleRun, a: ScheduleAssignment, windows: dict[int, list[tuple[int, int]]]
) -> int:
    s = solving.minute(run.horizon_start, a.start_at, up=False)
    e = solving.minute(run.horizon_start, a.end_at, up=False)
    open_ = windows.get(a.machine_id)
    if not open_:
        return e - s
    inside = sum(max(0, min(e, we) - max(s, ws)) for ws, we in open_)
    return inside or e - s


def _lateness(finish: dt.datetime, due: dt.datetime) -> int:
    seconds = (finish - due).total_seconds()
    return 0 if seconds <= 0 else int(-(-seconds // 60))


def left_out_of(run: ScheduleRun) -> dict[int, str]:
    """The requests this run left out and why (one of solving.WHY_NOT_PLACED)."""
    figures = run.kpis or {}
    why: dict[int, str] = {
        rid: "no_machine" for rid in figures.get("requests_without_machine") or []
    }
    for item in figures.get("unscheduled") or []:
        kind = item.get("kind")
        why.setdefault(
            solving.request_id_of(item["job"]),
            kind if kind in solving.WHY_NOT_PLACED else "unknown",
        )
    return why


def _run_request_ids(run: ScheduleRun) -> list[int]:
    ids = {solving.request_id_of(j["id"]) for j in (run.problem or {}).get("jobs", [])}
    ids.update((run.kpis or {}).get("requests_without_machine") or [])
    return sorted(ids)


def review_requests(session: Session, run: ScheduleRun) -> list[dict[str, Any]]:
    """The run's production requests with their planned figures (see the module docstring).

    Nothing before the run is solved: a queued or running run has its problem but no plan yet,
    and a request without a placement then would read as "left out"."""
    ids = _run_request_ids(run)
    if not ids or run.solution is None:
        return []
    requests = {
        r.id: r
        for r in session.scalars(select(ProductionRequest).where(ProductionRequest.id.in_(ids)))
    }
    members = {
        m.id: m
        for m in session.scalars(
            select(Member).where(Member.id.in_({r.member_id for r in requests.values()}))
        )
    }
    machines = (
        {
            m.id: m
            for m in session.scalars(
                select(Machine).where(Machine.id.in_({a.machine_id for a in run.assignments}))
            )
        }
        if run.assignments
        else {}
    )
    by_request: dict[int, list[ScheduleAssignment]] = defaultdict(list)
    for a in run.assignments:
        by_request[a.operation.request_id].append(a)
    why = left_out_of(run)
    windows = _windows(run)
    rows = []
    for rid in ids:
        request = requests.get(rid)
        if request is None:
            continue
        placed = by_request.get(rid, [])
        member = members.get(request.member_id)
        row: dict[str, Any] = {
            "request_id": rid,
            "member": {
                "id": request.member_id,
                "business_name": member.business_name if member else None,
            },
            "product": {"id": request.product_id, "name": request.product.name},
            "quantity": request.quantity,
            "due": house_time(run.house, request.due),
            "status": request.status.value,
            "placed": bool(placed) and rid not in why,
            "start": None,
            "finish": None,
            "lateness_minutes": None,
            "machine_cost": 0,
            "on_time": False,
            "why_not": None,
        }
        if placed:
            start = min(a.start_at for a in placed)
            finish = max(a.end_at for a in placed)
            row["start"], row["finish"] = (
                house_time(run.house, start),
                house_time(run.house, finish),
            )
            row["machine_cost"] = sum(
                rupiah_for(_working_minutes(run, a, windows), machines[a.machine_id].hourly_rate)
                for a in placed
            )
        if row["placed"]:
            row["lateness_minutes"] = _lateness(max(a.end_at for a in placed), request.due)
            row["on_time"] = row["lateness_minutes"] == 0
        else:
            kind = why.get(rid, "unknown")
            row["why_not"] = {
                "kind": kind,
                "words": why_words(kind),
                "suggestions": suggestions(session, run, request, kind, windows),
            }
        rows.append(row)
    return rows


def on_time_share(rows: list[dict[str, Any]]) -> float | None:
    """On time over every request of the run: a request left out is not on time."""
    return round(sum(1 for r in rows if r["on_time"]) / len(rows), 4) if rows else None


def solved_on_time_share(problem: Any, solution: Any, without_machine: list[int]) -> float | None:
    """The same share from a solved problem (solver.Problem, solver.Solution) and the requests
    no machine could make, for the run's KPIs: a request is on time when every job of it is
    placed and each ends by its due; every request of the run counts."""
    ends = {a.operation: a.end for a in solution.assignments}
    on_time: dict[int, bool] = {}
    for job in problem.jobs:
        rid = solving.request_id_of(job.id)
        end = ends.get(job.operations[-1].id)
        ok = end is not None and (job.due is None or end <= job.due)
        on_time[rid] = on_time.get(rid, True) and ok
    for rid in without_machine:
        on_time[rid] = False
    return round(sum(on_time.values()) / len(on_time), 4) if on_time else None


def review_run(session: Session, actor: Actor, run_id: int) -> dict[str, Any]:
    """A run's requests, its on-time share over all of them and its machine cost."""
    run = get_scoped(session, actor, ScheduleRun, run_id)
    rows = review_requests(session, run)
    return {
        "run": run,
        "requests": rows,
        "on_time": sum(1 for r in rows if r["on_time"]),
        "lateness_minutes": sum(r["lateness_minutes"] or 0 for r in rows),
        "on_time_share": on_time_share(rows),
        "machine_cost": sum(r["machine_cost"] for r in rows),
    }


def publish_effects(session: Session, actor: Actor, run_id: int) -> dict[str, Any]:
    """What publishing a run would do now, for the manager to read before confirming: the
    bookings it creates, moves, cancels (work published before that the run no longer holds)
    and leaves unchanged, and the members it tells (a request placed, a booking moved or
    cancelled, and, for a plan, a request left out); and the bookings of its house and horizon
    made, moved or cancelled since it was solved (`changed_since`: publishing would refuse and
    mark it stale, so the manager re-runs instead); whether it may be published or discarded
    now, and whether a fresh run is advised. Its house's managers only."""
    from factoryshare.services import scheduling

    run = get_scoped(session, actor, ScheduleRun, run_id)
    managed_house(session, actor, run.house_id)
    changes = scheduling.diff_run(session, actor, run.id) if run.problem is not None else []
    counts = {
        kind: sum(1 for c in changes if c["change"] == kind)
        for kind in ("new", "moved", "dropped", "unchanged")
    }
    told_requests = {
        c["request_id"]
        for c in changes
        if c["change"] != "unchanged" and c["request_id"] is not None
    }
    if run.purpose == "plan":
        told_requests.update(left_out_of(run))
    member_ids = (
        set(
            session.scalars(
                select(ProductionRequest.member_id).where(ProductionRequest.id.in_(told_requests))
            )
        )
        if told_requests
        else set()
    )
    waiting = run.status in (RunStatus.succeeded, RunStatus.stale)
    changed = scheduling.changed_since_solve(session, run) if waiting else []
    return {
        "run_id": run.id,
        "creates": counts["new"],
        "moves": counts["moved"],
        "cancels": counts["dropped"],
        "unchanged": counts["unchanged"],
        "members_told": len(member_ids),
        "changed_since": changed,
        # What the manager may do with the run now (the states publish_run and discard_run
        # accept); a fresh run is worth queueing once this one is stale, failed or overtaken.
        "publishable": run.status in scheduling.PUBLISHABLE and not changed,
        "discardable": run.status in scheduling.DISCARDABLE,
        "rerun_advised": run.status in (RunStatus.stale, RunStatus.failed)
        or (bool(changed) and run.status is RunStatus.succeeded),
    }


def plan_horizon(
    house: ProductionHouse, first_day: dt.date, days: int, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """The horizon of a run over `days` local days from `first_day`: from that day's local
    midnight, but never from the past (nothing can be placed before now: it starts at the next
    whole hour at the earliest), to the local midnight after its last day."""
    zone = calendar.house_zone(house)
    midnight = dt.datetime.combine(first_day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    start = max(
        midnight,
        now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1),
    )
    end = dt.datetime.combine(
        first_day + dt.timedelta(days=days), dt.time(0), tzinfo=zone
    ).astimezone(dt.UTC)
    return start, end


def get_run_reviewed(session: Session, actor: Actor, run_id: int) -> ScheduleRun:
    """The run with its review attached as `run.review` (a plain attribute, not stored)."""
    review = review_run(session, actor, run_id)
    run = review.pop("run")
    run.review = review
    return run
