"""Recording machine downtime, and what happens to the live bookings it hits.

The manager chooses: `cancel` the affected bookings (their slots are freed) or `keep` them
(the member decides). Either way each affected member's users are notified with up to three
alternative slots. `settle_hit_bookings` and `notify_affected` are that handling, shared with a
change of a house's calendar (factoryshare/services/houses/: closures, opening hours, slot
grid, zone).
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from factoryshare import audit, zones
from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.db import utcnow
from factoryshare.errors import Forbidden, ValidationFailed
from factoryshare.i18n import N_
from factoryshare.models import Downtime, DowntimeKind, Machine, Role, User
from factoryshare.models.bookings import LIVE_STATUSES, Booking
from factoryshare.services import bookings as booking_service
from factoryshare.services import calendar

AFFECTED_CHOICES = ("cancel", "keep")
MAX_DOWNTIME_DAYS = 366


@dataclass
class AffectedBooking:
    booking: Booking
    action: str  # "cancelled" or "kept"
    alternatives: list[tuple[Machine, dt.datetime, dt.datetime]] = field(default_factory=list)


@dataclass
class DowntimeResult:
    downtime: Downtime
    affected: list[AffectedBooking]
    # A re-plan of the solver-placed work it hit, queued for the manager to review.
    replan: Any = None


def notify_affected(
    session: Session,
    item: AffectedBooking,
    *,
    template: str,
    key: str,
    context: dict[str, Any] | None = None,
) -> None:
    """Tell the active users of the booking's member that it was hit (by a downtime, a closure,
    a change of opening hours, slot grid or zone), what became of it and which free slots are
    left: every time in the house's zone. `context` adds what the `template` needs besides the
    booking's own machine, times, action and alternatives."""
    module = "factoryshare.services.notifications"
    if importlib.util.find_spec(module) is None:
        return
    notifications = importlib.import_module(module)
    b = item.booking
    user_ids = list(
        session.scalars(select(User.id).where(User.member_id == b.member_id, User.is_active))
    )
    if not user_ids:
        return
    house = b.machine.house
    zone = calendar.house_zone(house)
    base: dict[str, Any] = {
        "booking_id": b.id,
        "machine": b.machine.name,
        "start": b.start_at.astimezone(zone).isoformat(),
        "end": b.end_at.astimezone(zone).isoformat(),
        "action": item.action,
        "zone": zones.abbreviation(house.timezone),
        # The messages show every time in this zone (WIB, WITA or WIT).
        "timezone": house.timezone,
        "alternatives": [
            {
                "machine_id": m.id,
                "machine": m.name,
                "start": s.astimezone(zone).isoformat(),
                "end": e.astimezone(zone).isoformat(),
            }
            for m, s, e in item.alternatives
        ],
    }
    notifications.notify(
        session, user_ids=user_ids, template=template, context={**base, **(context or {})}, key=key
    )


def settle_hit_bookings(
    session: Session,
    actor: Actor,
    hit: list[Booking],
    *,
    cancel_reason: str | None,
    search_from: Callable[[Booking], dt.datetime],
    notify: Callable[[AffectedBooking], None],
    now: dt.datetime,
) -> list[AffectedBooking]:
    """What happens to the live bookings a downtime or a calendar change hit: each is cancelled
    with `cancel_reason` (or kept when it is None), gets up to three alternative slots from
    `search_from(booking)` on (same machine, or another of the house with a shared capability),
    and its member is told through `notify`. Call it after the change is written, so the
    alternatives already avoid the new downtime or calendar."""
    results: list[AffectedBooking] = []
    for b in hit:
        if cancel_reason is not None:
            booking_service.cancel_loaded_booking(session, actor, b, cancel_reason)
            item = AffectedBooking(b, "cancelled")
        else:
            item = AffectedBooking(b, "kept")
        item.alternatives = booking_service.alternative_slots(
            session, b.machine, b.end_at - b.start_at, max(search_from(b), now), now=now
        )
        notify(item)
        results.append(item)
    return results


def _note_key(downtime_id: int, booking_id: int | str = "") -> str:
    """The key of the message a downtime sends about a booking it hit (a prefix without it)."""
    return f"downtime:{downtime_id}:booking:{booking_id}"


def _cancel_reason(reason: str) -> str:
    """The reason a downtime writes on each booking it cancels."""
    return N_("machine downtime: %(reason)s", reason=reason) if reason else N_("machine downtime")


def _notify(session: Session, downtime: Downtime, item: AffectedBooking) -> None:
    zone = calendar.house_zone(downtime.machine.house)
    notify_affected(
        session,
        item,
        template="booking_downtime",
        key=_note_key(downtime.id, item.booking.id),
        context={
            "downtime_start": downtime.start_at.astimezone(zone).isoformat(),
            "downtime_end": downtime.end_at.astimezone(zone).isoformat(),
            "reason": downtime.reason,
        },
    )


def record_downtime(
    session: Session,
    actor: Actor,
    *,
    machine_id: int,
    start: dt.datetime,
    end: dt.datetime,
    kind: DowntimeKind | str = DowntimeKind.maintenance,
    reason: str = "",
    affected: str = "keep",
    now: dt.datetime | None = None,
) -> DowntimeResult:
    actor.require(Role.manager, Role.admin)
    now = now or utcnow()
    machine = get_scoped(session, actor, Machine, machine_id)
    if not actor.manages(machine.house_id):
        raise Forbidden(N_("Only the house's managers may record its machines' downtime."))
    if end <= start:
        raise ValidationFailed(
            N_("The end must be after the start."), errors={"end": [N_("Must be after start.")]}
        )
    if end - start > dt.timedelta(days=MAX_DOWNTIME_DAYS):
        raise ValidationFailed(
            N_("A downtime may last at most a year."),
            errors={"end": [N_("At most 366 days after start.")]},
        )
    if affected not in AFFECTED_CHOICES:
        raise ValidationFailed(
            N_("Choose cancel or keep."), errors={"affected": [N_("cancel or keep")]}
        )
    downtime = Downtime(
        machine_id=machine.id,
        start_at=start,
        end_at=end,
        kind=DowntimeKind(kind),
        reason=reason or "",
        created_by_id=actor.user_id,
        created_at=now,
    )
    downtime.machine = machine
    session.add(downtime)
    session.flush()
    audit.record(session, actor, "downtime.created", downtime, after=audit.snapshot(downtime))
    hit = list(
        session.scalars(
            select(Booking)
            .where(
                Booking.machine_id == machine.id,
                Booking.status.in_(LIVE_STATUSES),
                Booking.start_at < end,
                Booking.end_at > start,
            )
            .order_by(Booking.start_at, Booking.id)
            # Locked as they are read: a booking cancelled or finished by someone else meanwhile
            # drops out of the list (PostgreSQL re-checks the WHERE after the wait) instead of
            # failing the whole downtime with invalid_transition.
            .with_for_update()
        )
    )
    results = settle_hit_bookings(
        session,
        actor,
        hit,
        cancel_reason=_cancel_reason(reason) if affected == "cancel" else None,
        search_from=lambda _b: end,
        notify=lambda item: _notify(session, downtime, item),
        now=now,
    )
    from factoryshare.services import scheduling

    replan = scheduling.queue_replan(session, actor, downtime, hit, now=now)
    return DowntimeResult(downtime, results, replan)


def list_downtimes(
    session: Session,
    actor: Actor,
    *,
    machine_id: int | None = None,
    house_id: int | None = None,
    ending_after: dt.datetime | None = None,
) -> Any:
    """The downtimes in the caller's scope, of a machine or a house, and (`ending_after`) only
    those not over by then: the upcoming ones a manager still plans around."""
    stmt = scoped(actor, Downtime)
    if ending_after is not None:
        stmt = stmt.where(Downtime.end_at > ending_after)
    if machine_id is not None:
        stmt = stmt.where(Downtime.machine_id == machine_id)
    if house_id is not None:
        stmt = stmt.where(
            Downtime.machine_id.in_(select(Machine.id).where(Machine.house_id == house_id))
        )
    # Each downtime is shown in its house's time: machines and houses read with the list.
    return stmt.order_by(Downtime.start_at, Downtime.id).options(
        selectinload(Downtime.machine).selectinload(Machine.house)
    )


def get_downtime(session: Session, actor: Actor, downtime_id: int) -> Downtime:
    return get_scoped(session, actor, Downtime, downtime_id)


def replan_run(session: Session, actor: Actor, downtime_id: int) -> Any:
    """The re-plan a recorded downtime queued for the solver-planned work it hit (None when
    it hit none): for the house's managers and admins, as its hits are."""
    from factoryshare.models.scheduling import ScheduleRun
    from factoryshare.services import scheduling

    downtime = _managed_downtime(session, actor, downtime_id)
    stmt = scheduling.list_house_runs(session, actor, downtime.machine.house_id)
    run: Any
    for run in session.scalars(stmt.where(ScheduleRun.purpose == "replan")):
        if (run.policies or {}).get("downtime_id") == downtime.id:
            return run
    return None


@dataclass
class HitBooking:
    """A booking a recorded downtime hit, what became of it and who was told."""

    booking: Booking
    action: str  # "cancelled" or "kept"
    told: list[User] = field(default_factory=list)
    # (machine name, start, end) of the free slots its member was offered.
    alternatives: list[tuple[str, dt.datetime, dt.datetime]] = field(default_factory=list)


def downtime_hits(session: Session, actor: Actor, downtime_id: int) -> list[HitBooking]:
    """The bookings a recorded downtime hit, read back from what `record_downtime` left: the
    messages it sent (one per user told, with the alternatives offered), the bookings it
    cancelled (with its cancel reason) and the live ones it kept. Its house's managers only."""
    from factoryshare.models.bookings import BookingStatus
    from factoryshare.models.notifications import Notification

    downtime = _managed_downtime(session, actor, downtime_id)
    prefix = _note_key(downtime.id)
    notes = session.execute(
        select(Notification, User)
        .join(User, User.id == Notification.user_id)
        .where(Notification.key.like(prefix + "%"))
        .order_by(User.name, User.id)
    )
    told: dict[int, list[tuple[Any, User]]] = {}
    for note, user in notes:
        tail = (note.key or "")[len(prefix) :]
        if tail.isdigit():
            told.setdefault(int(tail), []).append((note, user))
    cancelled_reason = str(_cancel_reason(downtime.reason))[:300]
    hits = []
    for b in booking_service.list_bookings(
        session, actor, machine_id=downtime.machine_id, start=downtime.start_at, end=downtime.end_at
    ):
        cancelled_by_it = (
            b.status is BookingStatus.cancelled and (b.cancelled_reason or "") == cancelled_reason
        )
        if b.id not in told and not b.is_live and not cancelled_by_it:
            continue
        hit = HitBooking(b, "cancelled" if b.status is BookingStatus.cancelled else "kept")
        for note, user in told.get(b.id, []):
            hit.told.append(user)
            if not hit.alternatives:
                for alt in (note.context or {}).get("alternatives") or []:
                    try:
                        hit.alternatives.append(
                            (
                                str(alt["machine"]),
                                dt.datetime.fromisoformat(alt["start"]),
                                dt.datetime.fromisoformat(alt["end"]),
                            )
                        )
                    except (KeyError, TypeError, ValueError):
                        continue
        hits.append(hit)
    return hits


def _managed_downtime(session: Session, actor: Actor, downtime_id: int) -> Downtime:
    from factoryshare import i18n
    from factoryshare.errors import NotFound

    downtime = get_scoped(session, actor, Downtime, downtime_id)
    if not actor.manages(downtime.machine.house_id):
        raise NotFound(
            N_(
                "%(name)s %(object_id)s was not found.",
                name=i18n.label(Downtime),
                object_id=downtime_id,
            )
        )
    return downtime


def downtimes_between(
    session: Session, actor: Actor, house_id: int, start: dt.datetime, end: dt.datetime
) -> list[Downtime]:
    """The downtimes of a house's machines that overlap [start, end), in start order."""
    return list(
        session.scalars(
            list_downtimes(session, actor, house_id=house_id).where(
                Downtime.start_at < end, Downtime.end_at > start
            )
        )
    )
