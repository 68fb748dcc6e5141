"""Production houses, their closures and the days they are shut."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import Id, PageArgs, Schema, Text, Words, page_schema, paginate, strip_page
from api.security import allow, current_actor
from factoryshare import zones
from factoryshare.models import Role
from factoryshare.services import agenda, houses

URL_PREFIX = "/houses"
blp = Blueprint("houses", __name__, description="Production houses, opening hours and closures")

OPENING_HOURS_EXAMPLE = {
    "mon": [["08:00", "12:00"], ["13:00", "17:00"]],
    "sat": [["08:00", "12:00"]],
}


def _opening_hours(**kwargs) -> ma.fields.Dict:  # type: ignore[no-untyped-def]
    # The shape only; the service checks days, times and overlaps and names the bad entry.
    return ma.fields.Dict(
        keys=ma.fields.String(validate=validate.Length(max=10)),
        values=ma.fields.List(
            ma.fields.List(
                ma.fields.String(validate=validate.Length(max=8)), validate=validate.Length(max=2)
            ),
            validate=validate.Length(max=12),
        ),
        metadata={
            "description": "weekday (mon..sun) to local [opens, closes] pairs; a day left "
            "out is closed",
            "example": OPENING_HOURS_EXAMPLE,
        },
        **kwargs,
    )


class HouseArgs(PageArgs):
    region = Text(120, min_length=1)
    q = Text(120, min_length=1, metadata={"description": "part of the name"})


class HouseUpdate(Schema):
    name = Text(120, min_length=1)
    address = Text(300)
    region = Text(120)
    timezone = Text(64, min_length=1, metadata={"description": "IANA zone, e.g. Asia/Makassar"})
    opening_hours = _opening_hours()
    slot_minutes = ma.fields.Integer(
        strict=True,
        validate=validate.Range(min=5, max=240),
        metadata={"description": "booking granularity"},
    )
    requires_confirmation = ma.fields.Boolean()
    hold_minutes = ma.fields.Integer(strict=True, validate=validate.Range(min=0, max=14 * 24 * 60))
    max_days_ahead = ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=366))
    financing_decision_days = ma.fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=1, max=90),
        metadata={
            "description": "held slots whose loan is still undecided this many days before "
            "they start are released; null: no deadline"
        },
    )
    trust_member_permits = ma.fields.Boolean(
        metadata={
            "description": "members' own permit entries count at the gate without a "
            "manager's verification (default false)"
        }
    )
    no_show_grace_minutes = ma.fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=houses.MAX_NO_SHOW_GRACE_MINUTES),
        metadata={
            "description": "minutes after a booking's start before it may be marked a "
            "no-show (default 15)"
        },
    )
    frozen_hours = ma.fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=houses.MAX_FROZEN_HOURS),
        metadata={
            "description": "a re-plan keeps published solver work starting within this many "
            "hours on its machine and time (default 24)"
        },
    )
    contact_phone = Text(30)
    contact_email = ma.fields.Email(validate=validate.Length(max=254))


class HouseCreate(HouseUpdate):
    name = Text(120, min_length=1, required=True)
    timezone = Text(64, min_length=1, required=True)
    opening_hours = _opening_hours(required=True)


class HouseSchema(Schema):
    id = Id(dump_only=True)
    name = ma.fields.String(dump_only=True)
    address = ma.fields.String(dump_only=True)
    region = ma.fields.String(dump_only=True)
    timezone = ma.fields.String(dump_only=True)
    zone = ma.fields.Function(
        lambda h: zones.abbreviation(h.timezone),
        dump_only=True,
        metadata={"description": "WIB, WITA or WIT"},
    )
    opening_hours = ma.fields.Dict(dump_only=True)
    slot_minutes = ma.fields.Integer(dump_only=True)
    requires_confirmation = ma.fields.Boolean(dump_only=True)
    hold_minutes = ma.fields.Integer(dump_only=True)
    max_days_ahead = ma.fields.Integer(dump_only=True)
    financing_decision_days = ma.fields.Integer(dump_only=True, allow_none=True)
    no_show_grace_minutes = ma.fields.Integer(dump_only=True)
    frozen_hours = ma.fields.Integer(dump_only=True)
    trust_member_permits = ma.fields.Boolean(dump_only=True)
    contact_phone = ma.fields.String(dump_only=True)
    contact_email = ma.fields.String(dump_only=True)
    created_at = ma.fields.AwareDateTime(format="iso", dump_only=True)


HousePage = page_schema(HouseSchema, "HousePage")


class ClosureArgs(PageArgs):
    since = ma.fields.Date(metadata={"description": "only closures ending on or after this day"})


class ClosureCreate(Schema):
    start_on = ma.fields.Date(required=True)
    end_on = ma.fields.Date(required=True)
    reason = Text(200)


class ClosureSchema(Schema):
    id = Id(dump_only=True)
    house_id = Id(dump_only=True)
    start_on = ma.fields.Date(dump_only=True)
    end_on = ma.fields.Date(dump_only=True)
    reason = ma.fields.String(dump_only=True)


ClosurePage = page_schema(ClosureSchema, "ClosurePage")


class CalendarChangeArgs(Schema):
    dry_run = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "list the live bookings the change would leave outside the calendar "
            "and change nothing (200)"
        },
    )
    affected = ma.fields.String(
        load_default="refuse",
        validate=validate.OneOf(houses.AFFECTED_CHOICES),
        metadata={
            "description": "what happens to the live bookings it "
            "leaves outside the calendar: refuse the change (409 "
            "bookings_affected naming them) or cancel them (each "
            "member is told, with alternative slots)"
        },
    )


class CalendarSlotOut(Schema):
    machine_id = ma.fields.Integer()
    machine = ma.fields.String()
    start = ma.fields.String()
    end = ma.fields.String()


class AffectedBookingOut(Schema):
    booking_id = ma.fields.Integer()
    member_id = ma.fields.Integer()
    member = ma.fields.String()
    machine_id = ma.fields.Integer()
    machine = ma.fields.String()
    start = ma.fields.String(metadata={"description": "in the house's (new) zone"})
    end = ma.fields.String()
    source = ma.fields.String(metadata={"description": "direct, series or solver"})
    why = ma.fields.String(
        metadata={"description": "not_aligned, house_closed, holiday or outside_opening_hours"}
    )
    action = ma.fields.String(
        allow_none=True, metadata={"description": "cancelled; null on a dry run"}
    )
    alternatives = ma.fields.List(ma.fields.Nested(CalendarSlotOut))


class _Effects(Schema):
    dry_run = ma.fields.Boolean(dump_only=True)
    affected = ma.fields.List(ma.fields.Nested(AffectedBookingOut), dump_only=True)
    replan_run_id = ma.fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "a queued schedule run re-placing the solver-planned work it cancelled"
        },
    )


class HouseChangeSchema(HouseSchema, _Effects):
    pass


class ClosureChangeSchema(ClosureSchema, _Effects):
    id = ma.fields.Integer(
        dump_only=True, allow_none=True, metadata={"description": "null on a dry run"}
    )


class _Shown:
    """A house or closure with what its change did to the live bookings, for dumping."""

    def __init__(self, obj, change):  # type: ignore[no-untyped-def]
        self._obj = obj
        self.dry_run = change.dry_run
        zone = ZoneInfo(change.timezone)
        done = {a.booking.id: a for a in change.affected}
        self.affected = []
        for b in change.bookings:
            item = done.get(b.id)
            self.affected.append(
                {
                    "booking_id": b.id,
                    "member_id": b.member_id,
                    "member": b.member.business_name,
                    "machine_id": b.machine_id,
                    "machine": b.machine.name,
                    "start": b.start_at.astimezone(zone).isoformat(),
                    "end": b.end_at.astimezone(zone).isoformat(),
                    "source": b.source.value,
                    "why": change.why[b.id],
                    "action": item.action if item else None,
                    "alternatives": [
                        {
                            "machine_id": m.id,
                            "machine": m.name,
                            "start": s.astimezone(zone).isoformat(),
                            "end": e.astimezone(zone).isoformat(),
                        }
                        for m, s, e in (item.alternatives if item else [])
                    ],
                }
            )
        self.replan_run_id = change.replan.id if change.replan is not None else None

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self._obj, name)


class ClosedDaysArgs(Schema):
    year = ma.fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))


class ClosedDay(Schema):
    date = ma.fields.Date()
    kind = ma.fields.String(
        metadata={"description": "holiday (national, incl. cuti bersama) or closure"}
    )
    name = Words(
        metadata={
            "description": "the holiday's name in the reader's language, or the closure's reason"
        }
    )


class ClosedDaysOut(Schema):
    house_id = ma.fields.Integer()
    year = ma.fields.Integer()
    days = ma.fields.List(ma.fields.Nested(ClosedDay))


@blp.route("")
class Houses(MethodView):
    @allow()
    @blp.arguments(HouseArgs, location="query")
    @blp.response(200, HousePage)
    def get(self, args):
        """Production houses"""
        filters, paging = strip_page(args)
        return paginate(db(), houses.list_houses(db(), current_actor(), **filters), paging)

    @allow(Role.admin)
    @blp.arguments(HouseCreate)
    @blp.response(201, HouseSchema)
    @blp.alt_response(409, description="Another house has this name")
    def post(self, data):
        """Open a production house"""
        return houses.create_house(db(), current_actor(), data)


@blp.route("/<int:house_id>")
class HouseById(MethodView):
    @allow()
    @blp.response(200, HouseSchema)
    def get(self, house_id):
        """One house with its settings"""
        return houses.get_house(db(), current_actor(), house_id)

    @allow(Role.admin, Role.manager)
    @blp.arguments(CalendarChangeArgs, location="query")
    @blp.arguments(HouseUpdate)
    @blp.response(200, HouseChangeSchema)
    @blp.alt_response(
        409,
        description="Another house has this name; or (bookings_affected) "
        "live bookings would fall outside the new opening hours, "
        "slot grid or zone",
    )
    def patch(self, args, data, house_id):
        """Change a house's settings (its managers or an admin)

        A change of `opening_hours`, `slot_minutes` or `timezone` that leaves live bookings
        outside the new calendar is refused (409 bookings_affected, naming them) unless
        `affected=cancel`; `dry_run=true` lists them and changes nothing. A new zone keeps the
        bookings' instants and reads them in that zone."""
        change = houses.change_house(db(), current_actor(), house_id, data, **args)
        return _Shown(change.house, change)

    @allow(Role.admin)
    @blp.response(204)
    @blp.alt_response(409, description="The house still has machines, members or managers")
    def delete(self, house_id):
        """Remove a house that holds nothing"""
        houses.delete_house(db(), current_actor(), house_id)


@blp.route("/<int:house_id>/closures")
class Closures(MethodView):
    @allow()
    @blp.arguments(ClosureArgs, location="query")
    @blp.response(200, ClosurePage)
    def get(self, args, house_id):
        """The house's own closures (beyond the national calendar), a page at a time, by first
        day then id"""
        filters, paging = strip_page(args)
        return paginate(
            db(), houses.list_closures(db(), current_actor(), house_id, **filters), paging
        )

    @allow(Role.admin, Role.manager)
    @blp.arguments(CalendarChangeArgs, location="query")
    @blp.arguments(ClosureCreate)
    @blp.response(201, ClosureChangeSchema)
    @blp.alt_response(
        200,
        schema=ClosureChangeSchema,
        description="dry_run=true: the live bookings it would hit; nothing changed",
    )
    @blp.alt_response(
        409,
        description="Overlaps a closure the house already has; or "
        "(bookings_affected) live bookings fall in these days",
    )
    def post(self, args, data, house_id):
        """Close the house on some days (inclusive, local dates)

        Live bookings in those days are refused (409 bookings_affected, naming them) unless
        `affected=cancel`; `dry_run=true` lists them and changes nothing."""
        change = houses.close_house(db(), current_actor(), house_id, **data, **args)
        shown = _Shown(change.closure, change)
        return (shown, 200) if change.dry_run else shown


@blp.route("/<int:house_id>/closures/<int:closure_id>")
class ClosureById(MethodView):
    @allow(Role.admin, Role.manager)
    @blp.response(204)
    def delete(self, house_id, closure_id):
        """Reopen the days of a closure"""
        houses.delete_closure(db(), current_actor(), house_id, closure_id)


@blp.route("/<int:house_id>/closed-days")
class ClosedDays(MethodView):
    @allow()
    @blp.arguments(ClosedDaysArgs, location="query")
    @blp.response(200, ClosedDaysOut)
    def get(self, args, house_id):
        """Every day of a year the house is shut: Indonesian public holidays and cuti bersama,
        and the house's closures"""
        house, days = houses.closed_days(db(), current_actor(), house_id, args["year"])
        return {"house_id": house.id, "year": args["year"], "days": days}


class PermitsByState(Schema):
    expired = ma.fields.Integer()
    expiring = ma.fields.Integer()
    needs_review = ma.fields.Integer()
    pending = ma.fields.Integer()


class AgendaOut(Schema):
    house_id = ma.fields.Integer()
    day = ma.fields.Date(metadata={"description": "the house's local day the counts are for"})
    held_bookings = ma.fields.Integer(
        metadata={"description": "held bookings not yet over, waiting to be confirmed or rejected"}
    )
    next_hold_expiry = ma.fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "when the first of those holds lapses, in the house's time"},
    )
    runs_to_review = ma.fields.Integer(metadata={"description": "schedule runs ready to review"})
    downtimes_today = ma.fields.Integer()
    permit_warnings = ma.fields.Integer(
        metadata={"description": "permits expired, expiring, needing review or pending"}
    )
    permits_by_state = ma.fields.Nested(PermitsByState)
    permits_to_verify = ma.fields.Integer()
    blocked_products = ma.fields.Integer(
        metadata={"description": "products a missing permit blocks now"}
    )


@blp.route("/<int:house_id>/agenda")
class HouseAgenda(MethodView):
    @allow(Role.admin, Role.manager)
    @blp.response(200, AgendaOut)
    def get(self, house_id):
        """What waits for the house's manager: held bookings, runs to review, today's
        downtimes and permit warnings (counts)"""
        return agenda.house_agenda(db(), current_actor(), house_id)
