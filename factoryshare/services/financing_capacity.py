"""Can the house make what the loan finances in time for the offtaker? (issue 5's capacity check)

The house's current live bookings are fixed time; the plan's open production requests are the
jobs (the house's other open requests are left out: they are not promised to anyone yet).
Each job is due by the end of the first offtake delivery day (house zone) of its product that
it can serve. After a short solve, the quantity of the product finished by each delivery day
(plan requests already booked count at their bookings' end) is compared with what the
agreement's deliveries add up to by then. Nothing is stored: the check is a question.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import solver
from factoryshare import i18n
from factoryshare.access import Actor
from factoryshare.db import utcnow
from factoryshare.errors import Forbidden, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import ProductionHouse, Role
from factoryshare.models.bookings import BookingStatus
from factoryshare.models.financing import LoanPlanLink, OfftakeAgreement
from factoryshare.models.scheduling import ProductionRequest, RequestStatus, ScheduleRun
from factoryshare.services import calendar, loans, solving

TIME_LIMIT_SECONDS = 5


@dataclass
class DeliveryCheck:
    agreement_id: int
    product_id: int
    due_on: dt.date
    quantity: int
    cumulative_quantity: int
    planned_quantity: int
    met: bool
    late_request_ids: list[int] = field(default_factory=list)
    # Why the plan falls short by this date, one sentence each (`Message`s): see `_shortfall`.
    reasons: list[Any] = field(default_factory=list)


@dataclass
class CapacityReport:
    house_id: int
    solver_status: str
    checked_at: dt.datetime
    deliveries: list[DeliveryCheck]
    unplaced_request_ids: list[int]

    @property
    def all_met(self) -> bool:
        return all(d.met for d in self.deliveries)


def _end_of_day(house: ProductionHouse, day: dt.date) -> dt.datetime:
    local = dt.datetime.combine(
        day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=calendar.house_zone(house)
    )
    return local.astimezone(dt.UTC)


def _finish_of_booked(session: Session, request: ProductionRequest) -> dt.datetime | None:
    bookings = solving.published_bookings(session, [op.id for op in request.operations])
    if len(bookings) < len(request.operations):
        return None
    live = [b for b in bookings.values() if b.status is not BookingStatus.cancelled]
    if len(live) < len(request.operations):
        return None
    return max(b.end_at for b in live)


def check(
    session: Session,
    actor: Actor,
    application_id: int,
    *,
    now: dt.datetime | None = None,
    time_limit: float = TIME_LIMIT_SECONDS,
    work_per_second: float = 0.0,
) -> CapacityReport:
    app = loans.get(session, actor, application_id)
    if actor.role is Role.member and not (app.cluster.chair_member_id == actor.member_id):
        raise Forbidden(
            N_("Only the cluster's chair, its aggregator or the house's managers may run this.")
        )
    house = session.get(ProductionHouse, app.cluster.house_id) if app.cluster.house_id else None
    if house is None:
        raise ValidationFailed(
            N_("The cluster produces in no house."),
            errors={"cluster_id": [N_("Set the production house the cluster uses first.")]},
        )
    agreements = list(
        session.scalars(
            select(OfftakeAgreement)
            .where(OfftakeAgreement.cluster_id == app.cluster_id)
            .order_by(OfftakeAgreement.id)
        )
    )
    deliveries = [(a, d) for a in agreements for d in a.deliveries]
    if not deliveries:
        raise ValidationFailed(
            N_("The cluster has no offtake delivery dates to check against."),
            errors={"offtake_agreements": [N_("Record the cluster's offtake agreement first.")]},
        )
    requests = list(
        session.scalars(
            select(ProductionRequest)
            .join(LoanPlanLink, LoanPlanLink.production_request_id == ProductionRequest.id)
            .where(
                LoanPlanLink.loan_application_id == app.id,
                ProductionRequest.status.in_(
                    (RequestStatus.open, RequestStatus.scheduled, RequestStatus.done)
                ),
            )
            .order_by(ProductionRequest.id)
        )
    )

    now = now or utcnow()
    start = now.replace(second=0, microsecond=0)
    last = max(_end_of_day(house, d.due_on) for _, d in deliveries)
    # A delivery date already past cannot be met by what is still to be made: the check then
    # plans the open requests over the next day and reports those dates unmet.
    end = max([last, start] + [r.due for r in requests]) + dt.timedelta(days=1)
    run = ScheduleRun(
        id=None,
        house_id=house.id,
        house=house,
        horizon_start=start,
        horizon_end=end,
        time_limit_seconds=int(time_limit),
        purpose="plan",
        policies={},
    )
    data = solving.build_problem(session, run)

    open_ids = {r.id for r in requests if r.status is RequestStatus.open}
    first_deadline: dict[int, dt.datetime] = {}
    for request in requests:
        dates = sorted(
            _end_of_day(house, d.due_on)
            for a, d in deliveries
            if a.product_id == request.product_id
            and _end_of_day(house, d.due_on) > request.earliest_start
        )
        if dates:
            first_deadline[request.id] = dates[0]
    jobs: list[dict[str, Any]] = []
    for job in data["jobs"]:
        rid = solving.request_id_of(job["id"])
        if rid not in open_ids:
            continue
        if rid in first_deadline:
            job["due"] = max(0, int((first_deadline[rid] - start).total_seconds() // 60))
        jobs.append(job)
    data["jobs"] = jobs

    finish: dict[int, dt.datetime | None] = {}
    status = "no_jobs"
    unplaced: list[int] = sorted(open_ids - {solving.request_id_of(j["id"]) for j in jobs})
    left_out: dict[int, str] = {rid: "no_machine" for rid in unplaced}
    if jobs:
        problem = solver.problem_from_dict(data)
        solution = solver.solve(
            problem,
            solving.solve_options(time_limit, 1, work_per_second),
            solving.policies_of(run),
        )
        status = solution.status
        ends: dict[str, int] = {a.operation: a.end for a in solution.assignments}
        for job in problem.jobs:
            rid = solving.request_id_of(job.id)
            end_minute = ends.get(job.operations[-1].id)
            finish[rid] = (
                start + dt.timedelta(minutes=end_minute) if end_minute is not None else None
            )
            if end_minute is None:
                unplaced.append(rid)
        for item in solution.unscheduled:
            left_out.setdefault(solving.request_id_of(item.job), item.kind)
    for request in requests:
        if request.status is RequestStatus.done:
            finish[request.id] = request.earliest_start  # made already
        elif request.status is RequestStatus.scheduled:
            finish[request.id] = _finish_of_booked(session, request)
        finish.setdefault(request.id, None)

    checks: list[DeliveryCheck] = []
    for agreement in agreements:
        mine = [r for r in requests if r.product_id == agreement.product_id]
        cumulative = 0
        for delivery in agreement.deliveries:
            cumulative += delivery.quantity
            deadline = _end_of_day(house, delivery.due_on)
            ready = [r for r in mine if finish[r.id] is not None and finish[r.id] <= deadline]  # type: ignore[operator]
            planned = sum(r.quantity for r in ready)
            met = planned >= cumulative
            late = [] if met else [r.id for r in mine if r not in ready]
            checks.append(
                DeliveryCheck(
                    agreement_id=agreement.id,
                    product_id=agreement.product_id,
                    due_on=delivery.due_on,
                    quantity=delivery.quantity,
                    cumulative_quantity=cumulative,
                    planned_quantity=planned,
                    met=met,
                    late_request_ids=late,
                    reasons=[]
                    if met
                    else _shortfall(
                        house,
                        agreement,
                        mine,
                        ready,
                        finish,
                        left_out,
                        deadline,
                        cumulative,
                        planned,
                    ),
                )
            )
    return CapacityReport(
        house_id=house.id,
        solver_status=status,
        checked_at=now,
        deliveries=checks,
        unplaced_request_ids=sorted(set(unplaced)),
    )


def _shortfall(
    house: ProductionHouse,
    agreement: OfftakeAgreement,
    mine: list[ProductionRequest],
    ready: list[ProductionRequest],
    finish: dict[int, dt.datetime | None],
    left_out: dict[int, str],
    deadline: dt.datetime,
    agreed: int,
    planned: int,
) -> list[Any]:
    """Why the plan finishes less than was agreed by a delivery's deadline, in sentences: no
    request of the product, or for each request not ready then what keeps it (it may start
    only later, the house could not place it and why, it finishes after the date, it is not
    fully booked), and when every request is ready, that they make too little."""
    product = agreement.product.name
    if not mine:
        return [N_("The plan has no production request for %(product)s.", product=product)]
    zone = calendar.house_zone(house)
    reasons: list[Any] = []
    for request in mine:
        if request in ready:
            continue
        which = {"request": request.id, "product": product}
        ends = finish.get(request.id)
        kind = left_out.get(request.id)
        if request.earliest_start >= deadline:
            reasons.append(
                N_(
                    "Request #%(request)s (%(product)s) may start only on %(day)s, "
                    "after this delivery date.",
                    **which,
                    day=i18n.day(request.earliest_start.astimezone(zone).date()),
                )
            )
        elif ends is not None:
            reasons.append(
                N_(
                    "Request #%(request)s (%(product)s) would be finished on %(day)s, "
                    "after this delivery date.",
                    **which,
                    day=i18n.day(ends.astimezone(zone).date()),
                )
            )
        elif kind == "no_machine":
            reasons.append(
                N_(
                    "Request #%(request)s (%(product)s) cannot be made in the house: "
                    "no machine there can do one of its steps.",
                    **which,
                )
            )
        elif kind == "no_window":
            reasons.append(
                N_(
                    "Request #%(request)s (%(product)s): one of its steps takes longer "
                    "than its machines are open in one go.",
                    **which,
                )
            )
        elif kind == "share_cap":
            reasons.append(
                N_(
                    "Request #%(request)s (%(product)s) would take its member above "
                    "its share of the house's scarce machines.",
                    **which,
                )
            )
        elif kind is not None:
            reasons.append(
                N_(
                    "Request #%(request)s (%(product)s) does not fit in the machine "
                    "time the house has free before this date.",
                    **which,
                )
            )
        elif request.status is RequestStatus.scheduled:
            reasons.append(
                N_(
                    "Request #%(request)s (%(product)s) is scheduled, but not every "
                    "step of it is booked.",
                    **which,
                )
            )
        else:
            reasons.append(
                N_("Request #%(request)s (%(product)s) is not finished by this date.", **which)
            )
    if not reasons:
        reasons.append(
            N_(
                "The plan's requests make %(planned)s by this date, fewer than the "
                "%(agreed)s agreed.",
                planned=planned,
                agreed=agreed,
            )
        )
    return reasons
