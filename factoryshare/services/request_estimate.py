"""What a production request would take, before the member asks for it: the machine hours of
each step, the price in rupiah, and whether the house's schedule as it stands could finish it
by the due date.

The steps and their minutes are what `production_requests.create_request` would expand from
the product's routing (setup + minutes per unit x quantity, per lot when the quantity is
planned in lots: each lot sets up again). "As the schedule stands" is the house's live
bookings (what the latest published plan and the members booked by hand) and its open time
(opening hours, holidays, closures, downtimes): the request alone is placed around them by the
solver's greedy builder (solver.greedy), from its earliest start on the house's slot grid. It
meets the date when its last step ends by the due date. Requests still waiting for a plan are
not counted: the next plan weighs them all together, so the estimate is a first look, not a
promise (the page and the API say so).

The price of a step is its working minutes x the hourly rate of the machine the estimate
placed it on (run_review.rupiah_for, half to even), or of the cheapest machine able to do it
when it could not be placed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import solver
from factoryshare.access import Actor
from factoryshare.db import utcnow
from factoryshare.models import Machine, MachineStatus, Product, ProductionHouse
from factoryshare.services import calendar, permits, production_requests, run_review, solving
from solver.greedy import greedy

# How far past the due date the estimate looks for the finish of a late request.
LOOK_PAST_DUE = dt.timedelta(days=14)


@dataclass
class StepEstimate:
    position: int
    capability: Any  # Capability
    minutes: int  # working minutes over all lots
    machine: Machine | None  # where the estimate placed it (the first lot), or the cheapest
    price: int
    start: dt.datetime | None = None
    end: dt.datetime | None = None


@dataclass
class Estimate:
    product: Product
    house: ProductionHouse
    quantity: int
    earliest_start: dt.datetime
    due: dt.datetime
    lots: list[int]
    steps: list[StepEstimate] = field(default_factory=list)
    finish: dt.datetime | None = None
    meets_due: bool = False
    # Why it could not be placed at all: no_machine, no_window, deadline, capacity, ...
    why_not: str | None = None

    @property
    def minutes(self) -> int:
        return sum(s.minutes for s in self.steps)

    @property
    def price(self) -> int:
        return sum(s.price for s in self.steps)

    @property
    def lateness_minutes(self) -> int:
        if self.finish is None or self.finish <= self.due:
            return 0
        return int(-(-(self.finish - self.due).total_seconds() // 60))


def request_window(
    house: ProductionHouse, earliest_on: dt.date, due_on: dt.date
) -> tuple[dt.datetime, dt.datetime]:
    """A request asked for by dates, in UTC: from the start of its earliest day to the end of
    its due day, in the house's time (the pages ask for dates, the API for moments)."""
    zone = calendar.house_zone(house)
    start = dt.datetime.combine(earliest_on, dt.time(0), tzinfo=zone)
    due = dt.datetime.combine(due_on + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start.astimezone(dt.UTC), due.astimezone(dt.UTC)


def estimate_request(
    session: Session,
    actor: Actor,
    *,
    product_id: int,
    quantity: int,
    earliest_start: dt.datetime,
    due: dt.datetime,
    lot_size: int | None = None,
    now: dt.datetime | None = None,
) -> Estimate:
    """The estimate of a request the caller may make (production_requests.check_request, the
    checks create_request makes; nothing stored)."""
    asked = production_requests.check_request(
        session,
        actor,
        product_id=product_id,
        quantity=quantity,
        earliest_start=earliest_start,
        due=due,
        lot_size=lot_size,
    )
    product, member, start, due = asked.product, asked.member, asked.earliest_start, asked.due
    house = session.get(ProductionHouse, member.house_id)
    assert house is not None
    now = now or utcnow()
    lots = solving.split_in_lots(quantity, asked.lot_size)
    estimate = Estimate(
        product=product, house=house, quantity=quantity, earliest_start=start, due=due, lots=lots
    )
    machines = list(
        session.scalars(
            select(Machine)
            .where(Machine.house_id == house.id, Machine.status == MachineStatus.active)
            .order_by(Machine.id)
        )
    )
    able = {
        step.position: sorted(
            (m for m in machines if any(c.id == step.capability_id for c in m.capabilities)),
            key=lambda m: (m.hourly_rate, m.id),
        )
        for step in product.routing
    }
    minutes = {
        step.position: [step.setup_minutes + step.minutes_per_unit * q for q in lots]
        for step in product.routing
    }
    placed = _place(session, house, product, machines, able, minutes, start, due, now, estimate)
    by_id = {m.id: m for m in machines}
    for step in product.routing:
        where = placed.get(step.position, [])
        first: dt.datetime | None = None
        last: dt.datetime | None = None
        if where:
            price = sum(
                run_review.rupiah_for(m, by_id[machine_id].hourly_rate)
                for (machine_id, _s, _e), m in zip(where, minutes[step.position])
            )
            machine: Machine | None = by_id[where[0][0]]
            zone = calendar.house_zone(house)
            first = min(s for _m, s, _e in where).astimezone(zone)
            last = max(e for _m, _s, e in where).astimezone(zone)
        else:
            machine = able[step.position][0] if able[step.position] else None
            price = (
                sum(run_review.rupiah_for(m, machine.hourly_rate) for m in minutes[step.position])
                if machine
                else 0
            )
        estimate.steps.append(
            StepEstimate(
                position=step.position,
                capability=step.capability,
                minutes=sum(minutes[step.position]),
                machine=machine,
                price=price,
                start=first,
                end=last,
            )
        )
    return estimate


def _place(
    session: Session,
    house: ProductionHouse,
    product: Product,
    machines: list[Machine],
    able: dict[int, list[Machine]],
    minutes: dict[int, list[int]],
    start: dt.datetime,
    due: dt.datetime,
    now: dt.datetime,
    estimate: Estimate,
) -> dict[int, list[tuple[int, dt.datetime, dt.datetime]]]:
    """Place the request alone around the live bookings; per step, (machine id, start, end)
    of each lot. Sets the estimate's finish, meets_due and why_not."""
    if any(not able[p] for p in able):
        estimate.why_not = "no_machine"
        return {}
    grid = solving.house_grid(house)
    h0 = solving.grid_start(house, max(start, now), grid)
    h1 = max(due, h0) + LOOK_PAST_DUE
    h1 = min(h1, h0 + dt.timedelta(days=62))
    horizon = solving.minute(h0, h1, up=False)
    used = {m.id for ms in able.values() for m in ms}
    problem_machines = solving.machine_entries(
        session, house, [m for m in machines if m.id in used], h0, h1
    )
    fixed = solving.fixed_entries(session, used, h0, h1)
    jobs = []
    for lot in range(len(estimate.lots)):
        jobs.append(
            {
                "id": f"lot-{lot}",
                "release": 0,
                "due": max(0, solving.minute(h0, due, up=False)),
                "deadline": permits.deadline_minute(session, product, start, h0),
                "weight": 1,
                "operations": [
                    {
                        "id": f"step-{step.position}-{lot}",
                        **({"min_lag": step.min_lag_minutes} if step.min_lag_minutes else {}),
                        **({"pausable": True} if step.capability.pausable else {}),
                        "modes": [
                            {
                                "machine": solving.machine_name(m.id),
                                "duration": max(1, minutes[step.position][lot]),
                            }
                            for m in able[step.position]
                        ],
                    }
                    for step in product.routing
                ],
            }
        )
    problem = solver.problem_from_dict(
        {
            "format": "factoryshare-problem/1",
            "name": "estimate",
            "horizon": horizon,
            "machines": problem_machines,
            "fixed": fixed,
            "jobs": jobs,
            "objective": dict(solving.OBJECTIVE),
            **({"grid": grid} if grid > 1 else {}),
        }
    )
    assignments, unscheduled = greedy(problem)
    if unscheduled:
        kind = unscheduled[0].kind
        estimate.why_not = kind if kind in solving.WHY_NOT_PLACED else "unknown"
        return {}
    placed: dict[int, list[Any]] = {}
    for a in assignments:
        _step, position, lot_number = a.operation.split("-")
        placed.setdefault(int(position), []).append(
            (
                int(lot_number),
                solving.machine_id_of(a.machine),
                h0 + dt.timedelta(minutes=a.start),
                h0 + dt.timedelta(minutes=a.end),
            )
        )
    placed = {
        p: [(m, s, e) for _lot, m, s, e in sorted(where, key=lambda w: w[0])]
        for p, where in placed.items()
    }
    estimate.finish = max(end for where in placed.values() for _m, _s, end in where)
    estimate.meets_due = estimate.finish <= due
    return placed
