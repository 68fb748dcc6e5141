"""The application built from the cluster's production plan: its requests and bookings (each
financing at most one live application or loan, at the cluster's house, of members who
accepted), the per-member shares and the KUR rules they must keep.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from factoryshare import audit, i18n, locking, validation
from factoryshare.access import Actor, scope_filter
from factoryshare.errors import Conflict, Forbidden, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.messages import rupiah
from factoryshare.models import Machine, Member, ProductionHouse, machine_capabilities
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.models.financing import (
    LoanApplication,
    LoanPlanLink,
    LoanShare,
    LoanStatus,
)
from factoryshare.models.scheduling import ProductionRequest, RequestStatus
from factoryshare.services import clusters
from factoryshare.services.loans.core import (
    LOAN_STATUSES,
    for_change,
    get,
    may_apply_for,
    snapshot,
)

MAX_PLAN_ITEMS = 500


PLAN_BOOKING_STATUSES = (BookingStatus.held, BookingStatus.confirmed, BookingStatus.completed)


PLAN_REQUEST_STATUSES = (RequestStatus.open, RequestStatus.scheduled)


def _request_minutes_and_cost(session: Session, request: ProductionRequest) -> tuple[int, int]:
    """A request's machine minutes and their cost at the cheapest capable machine of its house."""
    minutes = cost = 0
    for op in request.operations:
        rate = (
            session.scalar(
                select(func.min(Machine.hourly_rate))
                .join(machine_capabilities, machine_capabilities.c.machine_id == Machine.id)
                .where(
                    Machine.house_id == request.house_id,
                    machine_capabilities.c.capability_id == op.capability_id,
                )
            )
            or 0
        )
        minutes += op.minutes
        cost += (op.minutes * rate + 30) // 60
    return minutes, cost


def _valid_npwp(value: str | None) -> bool:
    if not value:
        return False
    try:
        validation.npwp(value)
    except ValidationFailed:
        return False
    return True


def plan_problems(
    session: Session, app: LoanApplication, shares: list[LoanShare]
) -> dict[str, list[str]]:
    """Every KUR rule the per-member shares break, keyed `shares[<member id>].<field>`."""
    scheme = app.scheme
    errors: dict[str, list[Any]] = {}  # each problem a message to translate
    accepted = clusters.accepted_member_ids(app.cluster)
    pending = clusters.pending_member_names(session, app.cluster_id)
    for share in shares:
        member = session.get(Member, share.member_id)
        where = f"shares[{share.member_id}]"
        if member is None:
            continue
        if member.id not in accepted:  # a plan made before the member had to accept
            errors.setdefault(f"{where}.member_id", []).append(
                clusters.not_accepted_message(member.id, pending)
                or N_(
                    "%(business_name)s (member %(member_id)s) is not in the cluster.",
                    business_name=member.business_name,
                    member_id=member.id,
                )
            )
        if share.amount > scheme.ceiling:
            errors.setdefault(f"{where}.amount", []).append(
                N_(
                    "%(business_name)s may borrow at most %(ceiling)s under %(scheme)s.",
                    business_name=member.business_name,
                    ceiling=rupiah(scheme.ceiling),
                    scheme=scheme.name,
                )
            )
        if scheme.npwp_required_above is not None and share.amount > scheme.npwp_required_above:
            if not member.npwp:
                errors.setdefault(f"{where}.npwp", []).append(
                    N_(
                        "%(business_name)s needs an NPWP to borrow more than %(limit)s.",
                        business_name=member.business_name,
                        limit=rupiah(scheme.npwp_required_above),
                    )
                )
            elif not _valid_npwp(member.npwp):
                errors.setdefault(f"{where}.npwp", []).append(
                    N_("%(business_name)s's NPWP is not valid.", business_name=member.business_name)
                )
        if member.annual_turnover is not None and member.annual_turnover > scheme.turnover_cap:
            errors.setdefault(f"{where}.annual_turnover", []).append(
                N_(
                    "%(business_name)s's turnover is above the KUR cap of %(cap)s a year.",
                    business_name=member.business_name,
                    cap=rupiah(scheme.turnover_cap),
                )
            )
    return errors


# A request or a booking finances one application or loan at a time: one that is not rejected,
# declined by the lender or closed ("withdrawn" is not a status of this workflow).
ENDED_FINANCING = (LoanStatus.rejected, LoanStatus.lender_declined, LoanStatus.closed)


def _financed_elsewhere(
    session: Session, app: LoanApplication, request_ids: list[int], booking_ids: list[int]
) -> tuple[dict[int, LoanApplication], dict[int, LoanApplication]]:
    """The other live applications or loans already financing these requests and bookings."""
    by_request: dict[int, LoanApplication] = {}
    by_booking: dict[int, LoanApplication] = {}
    if not request_ids and not booking_ids:
        return by_request, by_booking
    rows = session.execute(
        select(LoanPlanLink.production_request_id, LoanPlanLink.booking_id, LoanApplication)
        .join(LoanApplication, LoanApplication.id == LoanPlanLink.loan_application_id)
        .where(
            LoanApplication.id != app.id,
            LoanApplication.status.not_in(ENDED_FINANCING),
            or_(
                LoanPlanLink.production_request_id.in_(request_ids),
                LoanPlanLink.booking_id.in_(booking_ids),
            ),
        )
        .order_by(LoanApplication.id)
    )
    for request_id, booking_id, other in rows:
        if request_id is not None:
            by_request.setdefault(request_id, other)
        if booking_id is not None:
            by_booking.setdefault(booking_id, other)
    return by_request, by_booking


def _elsewhere_message(what: str, app: LoanApplication, other: LoanApplication) -> str:
    if other.status in LOAN_STATUSES:
        return N_(
            "%(what)s is already financed by loan %(other)s (%(status)s); it cannot be "
            "financed by loan application %(app)s as well.",
            what=what,
            other=other.id,
            status=i18n.status(other.status),
            app=app.id,
        )
    return N_(
        "%(what)s is already financed by loan application %(other)s (%(status)s); it "
        "cannot be financed by loan application %(app)s as well.",
        what=what,
        other=other.id,
        status=i18n.status(other.status),
        app=app.id,
    )


def _item_errors(
    session: Session,
    app: LoanApplication,
    request_ids: list[int],
    booking_ids: list[int],
    *,
    check_status: bool = True,
) -> tuple[dict[str, list[str]], dict[int, int], dict[int, int]]:
    """Every rule the plan's requests and bookings break, keyed `production_request_ids[i]` /
    `booking_ids[i]`, and the machine minutes and cost per member of the valid ones.

    The requests' and bookings' rows are locked first (in id order), so that two plans
    reaching for the same booking are serialised: the second one sees the first one's link.
    """
    cluster = app.cluster
    members = {m.id for m in cluster.members}  # those who accepted
    pending = clusters.pending_member_names(session, app.cluster_id)
    house = cluster.house_id
    errors: dict[str, list[Any]] = {}  # each problem a message to translate
    minutes: dict[int, int] = {}
    machine_cost: dict[int, int] = {}
    requests = {r.id: r for r in locking.rows_for_update(session, ProductionRequest, request_ids)}
    bookings = {b.id: b for b in locking.rows_for_update(session, Booking, booking_ids)}
    by_request, by_booking = _financed_elsewhere(session, app, list(requests), list(bookings))

    def house_name(house_id: int) -> str:
        found = session.get(ProductionHouse, house_id)
        return found.name if found is not None else f"house {house_id}"

    for i, rid in enumerate(request_ids):
        request = requests.get(rid)
        where = f"production_request_ids[{i}]"
        if request is None or request.member_id not in members:
            # Absent or another business's: the same answer, so ids outside scope leak nothing.
            errors[where] = [
                (request and clusters.not_accepted_message(request.member_id, pending))
                or N_("Production request %(id)s is not one of the cluster members'.", id=rid)
            ]
            continue
        problems: list[Any] = []
        if check_status and request.status not in PLAN_REQUEST_STATUSES:
            problems.append(
                N_(
                    "Production request %(rid)s is %(status)s.",
                    rid=rid,
                    status=i18n.status(request.status),
                )
            )
        if house is not None and request.house_id != house:
            problems.append(
                N_(
                    "Production request %(rid)s is made at %(house_id)s, not at the "
                    "cluster's house %(house)s.",
                    rid=rid,
                    house_id=house_name(request.house_id),
                    house=house_name(house),
                )
            )
        if rid in by_request:
            problems.append(
                _elsewhere_message(N_("Production request %(id)s", id=rid), app, by_request[rid])
            )
        if problems:
            errors[where] = problems
            continue
        m, c = _request_minutes_and_cost(session, request)
        minutes[request.member_id] = minutes.get(request.member_id, 0) + m
        machine_cost[request.member_id] = machine_cost.get(request.member_id, 0) + c

    for i, bid in enumerate(booking_ids):
        booking = bookings.get(bid)
        where = f"booking_ids[{i}]"
        if booking is None or booking.member_id not in members:
            errors[where] = [
                (booking and clusters.not_accepted_message(booking.member_id, pending))
                or N_("Booking %(id)s is not one of the cluster members'.", id=bid)
            ]
            continue
        problems = []
        if check_status and booking.status not in PLAN_BOOKING_STATUSES:
            problems.append(
                N_("Booking %(bid)s is %(status)s.", bid=bid, status=i18n.status(booking.status))
            )
        if house is not None and booking.machine.house_id != house:
            problems.append(
                N_(
                    "Booking %(bid)s is at %(house_id)s, not at the cluster's house %(house)s.",
                    bid=bid,
                    house_id=house_name(booking.machine.house_id),
                    house=house_name(house),
                )
            )
        if bid in by_booking:
            problems.append(_elsewhere_message(N_("Booking %(id)s", id=bid), app, by_booking[bid]))
        if problems:
            errors[where] = problems
            continue
        m = int((booking.end_at - booking.start_at).total_seconds() // 60)
        minutes[booking.member_id] = minutes.get(booking.member_id, 0) + m
        machine_cost[booking.member_id] = machine_cost.get(booking.member_id, 0) + booking.price
    return errors, minutes, machine_cost


def linked_item_errors(session: Session, app: LoanApplication) -> dict[str, list[str]]:
    """At submit: the plan's requests and bookings, checked again under their row locks."""
    links = list(
        session.scalars(
            select(LoanPlanLink)
            .where(LoanPlanLink.loan_application_id == app.id, LoanPlanLink.linked_by == "plan")
            .order_by(LoanPlanLink.id)
        )
    )
    request_ids = [link.production_request_id for link in links if link.production_request_id]
    booking_ids = [link.booking_id for link in links if link.booking_id]
    errors, _, _ = _item_errors(session, app, request_ids, booking_ids, check_status=False)
    return errors


def set_plan(
    session: Session,
    actor: Actor,
    application_id: int,
    *,
    production_request_ids: list[int] | None = None,
    booking_ids: list[int] | None = None,
    material_costs: dict[int, int] | None = None,
) -> LoanApplication:
    """Bundle the cluster's requests and bookings into the application (replacing its plan).

    Each member's share is its machine cost (booked hours x the machine's rate, requests at the
    cheapest capable machine) plus its declared material cost; the requested amount becomes
    their sum. Every broken rule is named at once.
    """
    # Locked like every other change of the application, so a plan edit racing a submit
    # either lands before it or finds the application submitted.
    app = for_change(session, actor, application_id)
    if not may_apply_for(actor, app.cluster):
        raise Forbidden(N_("Only the cluster's aggregator or its chair may build its plan."))
    if app.status not in (LoanStatus.draft, LoanStatus.changes_requested):
        raise Conflict(
            N_("Only a draft or an application sent back for changes can be edited."),
            code="invalid_transition",
            details={"action": "set_plan", "status": app.status.value},
        )
    request_ids = list(dict.fromkeys(production_request_ids or []))
    booking_ids = list(dict.fromkeys(booking_ids or []))
    materials = dict(material_costs or {})
    members = {m.id for m in app.cluster.members}  # those who accepted
    pending = clusters.pending_member_names(session, app.cluster_id)
    if len(request_ids) + len(booking_ids) > MAX_PLAN_ITEMS:
        raise ValidationFailed(
            N_("The plan is too large."),
            errors={
                "production_request_ids": [
                    N_(
                        "At most %(max_plan_items)s requests and bookings.",
                        max_plan_items=MAX_PLAN_ITEMS,
                    )
                ]
            },
        )
    errors, minutes, machine_cost = _item_errors(session, app, request_ids, booking_ids)
    if not request_ids and not booking_ids:
        errors["production_request_ids"] = [N_("Give at least one production request or booking.")]

    for member_id, cost in materials.items():
        where = f"material_costs[{member_id}]"
        if member_id not in members:
            errors[where] = [
                clusters.not_accepted_message(member_id, pending)
                or N_("Member %(member_id)s is not in the cluster.", member_id=member_id)
            ]
        elif not isinstance(cost, int) or isinstance(cost, bool) or cost < 0:
            errors[where] = [N_("Must be zero or more whole rupiah.")]
            materials[member_id] = 0

    # The per-member rules are checked on what is valid of the plan, so that one 422 names
    # every rule broken: the items' and the ceilings, NPWP and turnover of the shares.
    shares = [
        LoanShare(
            member_id=mid,
            machine_minutes=minutes.get(mid, 0),
            machine_cost=machine_cost.get(mid, 0),
            material_cost=materials.get(mid, 0),
            amount=machine_cost.get(mid, 0) + materials.get(mid, 0),
        )
        for mid in sorted((set(minutes) | set(materials)) & members)
    ]
    shares = [s for s in shares if s.amount > 0]
    for field, problems in plan_problems(session, app, shares).items():
        errors.setdefault(field, []).extend(problems)
    total = sum(s.amount for s in shares)
    if total <= 0 and not errors:
        errors.setdefault("requested_amount", []).append(N_("The plan costs nothing to finance."))
    if errors:
        raise ValidationFailed(
            N_("The production plan cannot be financed as given."), errors=errors
        )

    before = snapshot(app)
    session.execute(delete(LoanShare).where(LoanShare.loan_application_id == app.id))
    session.execute(
        delete(LoanPlanLink).where(
            LoanPlanLink.loan_application_id == app.id, LoanPlanLink.linked_by == "plan"
        )
    )
    for share in shares:
        share.loan_application_id = app.id
        session.add(share)
    for rid in request_ids:
        session.add(
            LoanPlanLink(loan_application_id=app.id, production_request_id=rid, linked_by="plan")
        )
    for bid in booking_ids:
        session.add(LoanPlanLink(loan_application_id=app.id, booking_id=bid, linked_by="plan"))
    app.requested_amount = total
    session.flush()
    audit.record(
        session,
        actor,
        "loan_application.plan_set",
        app,
        before=before,
        after={
            **snapshot(app),
            "production_request_ids": request_ids,
            "booking_ids": booking_ids,
            "shares": {s.member_id: s.amount for s in shares},
        },
    )
    return app


def shares(session: Session, actor: Actor, application_id: int) -> list[LoanShare]:
    """The per-member shares; a member sees its own share only."""
    app = get(session, actor, application_id)
    stmt = (
        select(LoanShare)
        .where(LoanShare.loan_application_id == app.id, scope_filter(actor, LoanShare))
        .order_by(LoanShare.member_id)
    )
    return list(session.scalars(stmt))


def cost_estimate(session: Session, actor: Actor, application_id: int) -> int:
    """The whole plan's cost (machine time plus materials), which every reader may see."""
    app = get(session, actor, application_id)
    return int(
        session.scalar(
            select(func.coalesce(func.sum(LoanShare.amount), 0)).where(
                LoanShare.loan_application_id == app.id
            )
        )
        or 0
    )


def plan_links(session: Session, actor: Actor, application_id: int) -> list[LoanPlanLink]:
    """The requests and bookings the application finances; a member sees its own only."""
    app = get(session, actor, application_id)
    stmt = (
        select(LoanPlanLink)
        .where(LoanPlanLink.loan_application_id == app.id, scope_filter(actor, LoanPlanLink))
        .order_by(LoanPlanLink.id)
    )
    return list(session.scalars(stmt))
