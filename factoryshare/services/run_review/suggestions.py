"""What would place a request a run left out. For a request the run left out: the reason as a
kind (solving.WHY_NOT_PLACED, read from this run's KPIs) and in words, with what would place
it. A suggestion is given only where it follows from the kind:

- `no_machine`: `another_machine` that can do the capabilities no active machine has;
- `no_window` (a step longer than its machines are open in one go): `split` into lots, with
  the largest lot whose every step fits the longest opening of one of its machines when that
  can be computed, and `another_machine` open longer in one go;
- `deadline` (a permit it needs runs out before it can be finished: the only hard deadline a
  plan has): `permit` valid for longer. A later *due* date is not suggested: the due date is
  soft here (a request is placed late rather than left out), so moving it would place nothing;
- `share_cap`: `higher_share_cap` in the next run;
- `capacity` (the machines are full for the run's horizon): `later_due`, a due date after the
  horizon's end planned in a later run (the earliest due that would fit cannot be known from
  this run, so `not_before` is the horizon's end), and `another_machine` of its capabilities;
- `unknown`: nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare import i18n
from factoryshare.i18n import N_
from factoryshare.models import Machine, MachineStatus
from factoryshare.models.scheduling import ProductionRequest, ScheduleRun
from factoryshare.services.run_review.common import house_time


def _missing_capabilities(session: Session, request: ProductionRequest) -> list[str]:
    have = {
        c.id
        for m in session.scalars(
            select(Machine).where(
                Machine.house_id == request.house_id, Machine.status == MachineStatus.active
            )
        )
        for c in m.capabilities
    }
    return sorted({op.capability.code for op in request.operations if op.capability_id not in have})


def _largest_lot(
    session: Session,
    run: ScheduleRun,
    request: ProductionRequest,
    windows: dict[int, list[tuple[int, int]]],
) -> int | None:
    """The largest quantity whose every step fits the longest opening in one go of one of its
    machines in this run (None: not computable, or a lot of one does not fit either)."""
    machines = list(
        session.scalars(
            select(Machine).where(
                Machine.house_id == request.house_id, Machine.status == MachineStatus.active
            )
        )
    )
    steps = {s.position: s for s in request.product.routing}
    lot: int | None = None
    for op in request.operations:
        longest = max(
            (
                e - s
                for m in machines
                if op.capability_id in {c.id for c in m.capabilities}
                for s, e in windows.get(m.id, [])
            ),
            default=0,
        )
        if op.minutes <= longest:
            continue
        step = steps.get(op.position)
        if step is None or step.minutes_per_unit <= 0 or longest <= step.setup_minutes:
            return None
        fits = (longest - step.setup_minutes) // step.minutes_per_unit
        if fits < 1:
            return None
        lot = fits if lot is None else min(lot, fits)
    return lot if lot is not None and lot < request.quantity else None


def suggestions(
    session: Session,
    run: ScheduleRun,
    request: ProductionRequest,
    kind: str,
    windows: dict[int, list[tuple[int, int]]],
) -> list[dict[str, Any]]:
    """What would place a request this run left out for `kind` (see the module docstring)."""
    codes = sorted({op.capability.code for op in request.operations})
    if kind == "no_machine":
        missing = _missing_capabilities(session, request) or codes
        return [
            {
                "kind": "another_machine",
                "capabilities": missing,
                "words": N_(
                    "A machine that can do %(capabilities)s: no active machine of the house can.",
                    capabilities=", ".join(missing),
                ),
            }
        ]
    if kind == "no_window":
        lot = _largest_lot(session, run, request, windows)
        split: dict[str, Any] = {"kind": "split", "max_lot": lot}
        split["words"] = (
            N_(
                "Split it into lots of at most %(quantity)s, so that each step fits in one opening "
                "of its machines.",
                quantity=lot,
            )
            if lot is not None
            else N_(
                "Split it into smaller lots, so that each step fits in one opening of its machines."
            )
        )
        return [
            split,
            {
                "kind": "another_machine",
                "capabilities": codes,
                "words": N_(
                    "Another machine for %(capabilities)s that is open longer in one go.",
                    capabilities=", ".join(codes),
                ),
            },
        ]
    if kind == "deadline":
        return [
            {
                "kind": "permit",
                "words": N_(
                    "A permit valid for longer: a permit it needs runs out before it can "
                    "be finished."
                ),
            }
        ]
    if kind == "share_cap":
        return [
            {
                "kind": "higher_share_cap",
                "words": N_("A run with a higher share cap for the member."),
            }
        ]
    if kind == "capacity":
        return [
            {
                "kind": "later_due",
                "earliest_due": None,
                "not_before": house_time(run.house, run.horizon_end),
                "words": N_(
                    "A due date after %(end)s, planned in a later run: the machines are "
                    "full until then.",
                    end=i18n.moment(run.horizon_end, run.house.timezone),
                ),
            },
            {
                "kind": "another_machine",
                "capabilities": codes,
                "words": N_(
                    "Another machine for %(capabilities)s adds the time it needs.",
                    capabilities=", ".join(codes),
                ),
            },
        ]
    return []
