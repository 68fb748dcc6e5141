"""Machine downtimes: a manager records one and learns which bookings it hit."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import AwareDateTime, Id, PageArgs, Schema, Text, page_schema, paginate, strip_page
from api.security import allow, current_actor
from factoryshare.db import MAX_ID
from factoryshare.models import DowntimeKind, Role
from factoryshare.services import calendar, downtimes

URL_PREFIX = "/downtimes"
blp = Blueprint("downtimes", __name__, description="Machine downtimes and their effect on bookings")


def _local(house, value):  # type: ignore[no-untyped-def]
    return value.astimezone(calendar.house_zone(house)).isoformat()


class DowntimeSchema(Schema):
    id = Id(dump_only=True)
    machine_id = Id(dump_only=True)
    start = ma.fields.Function(lambda d: _local(d.machine.house, d.start_at), dump_only=True)
    end = ma.fields.Function(lambda d: _local(d.machine.house, d.end_at), dump_only=True)
    kind = ma.fields.Function(lambda d: d.kind.value, dump_only=True)
    reason = ma.fields.String(dump_only=True)
    created_at = ma.fields.AwareDateTime(format="iso", dump_only=True)


class SlotSchema(Schema):
    machine_id = ma.fields.Integer()
    machine = ma.fields.String()
    start = ma.fields.String()
    end = ma.fields.String()


class AffectedSchema(Schema):
    booking_id = ma.fields.Integer()
    member_id = ma.fields.Integer()
    start = ma.fields.String()
    end = ma.fields.String()
    action = ma.fields.String(metadata={"description": "cancelled or kept"})
    alternatives = ma.fields.List(ma.fields.Nested(SlotSchema))


class DowntimeResultSchema(Schema):
    downtime = ma.fields.Nested(DowntimeSchema)
    affected = ma.fields.List(ma.fields.Nested(AffectedSchema))
    replan_run_id = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "a queued schedule run re-placing the solver-planned work it hit"},
    )


DowntimePage = page_schema(DowntimeSchema, "DowntimePage")


class DowntimeCreate(Schema):
    machine_id = Id(required=True)
    start = AwareDateTime(required=True)
    end = AwareDateTime(required=True)
    kind = ma.fields.String(
        load_default="maintenance", validate=validate.OneOf([k.value for k in DowntimeKind])
    )
    reason = Text(300, load_default="")
    affected = ma.fields.String(
        load_default="keep",
        validate=validate.OneOf(downtimes.AFFECTED_CHOICES),
        metadata={"description": "cancel or keep the live bookings hit"},
    )


class DowntimeArgs(PageArgs):
    machine_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    house_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


def _result(result):  # type: ignore[no-untyped-def]
    house = result.downtime.machine.house
    return {
        "downtime": result.downtime,
        "affected": [
            {
                "booking_id": a.booking.id,
                "member_id": a.booking.member_id,
                "start": _local(house, a.booking.start_at),
                "end": _local(house, a.booking.end_at),
                "action": a.action,
                "alternatives": [
                    {
                        "machine_id": m.id,
                        "machine": m.name,
                        "start": _local(house, s),
                        "end": _local(house, e),
                    }
                    for m, s, e in a.alternatives
                ],
            }
            for a in result.affected
        ],
        "replan_run_id": result.replan.id if result.replan is not None else None,
    }


@blp.route("")
class Downtimes(MethodView):
    @allow()
    @blp.arguments(DowntimeArgs, location="query")
    @blp.response(200, DowntimePage)
    def get(self, args):
        """Downtimes, filterable by machine or house"""
        filters, paging = strip_page(args)
        return paginate(db(), downtimes.list_downtimes(db(), current_actor(), **filters), paging)

    @allow(Role.admin, Role.manager)
    @blp.arguments(DowntimeCreate)
    @blp.response(201, DowntimeResultSchema)
    def post(self, data):
        """Record a downtime; the live bookings it hits are cancelled or kept, and their
        members notified with up to three alternative slots"""
        return _result(downtimes.record_downtime(db(), current_actor(), **data))


@blp.route("/<int:downtime_id>")
class DowntimeById(MethodView):
    @allow()
    @blp.response(200, DowntimeSchema)
    def get(self, downtime_id):
        """One downtime"""
        return downtimes.get_downtime(db(), current_actor(), downtime_id)


class ToldOut(Schema):
    user_id = ma.fields.Integer(attribute="id")
    name = ma.fields.String()


class OfferedOut(Schema):
    machine = ma.fields.String()
    start = ma.fields.String()
    end = ma.fields.String()


class HitOut(Schema):
    booking_id = ma.fields.Integer()
    member_id = ma.fields.Integer()
    start = ma.fields.String(metadata={"description": "in the house's time"})
    end = ma.fields.String()
    action = ma.fields.String(metadata={"description": "cancelled or kept"})
    told = ma.fields.List(
        ma.fields.Nested(ToldOut),
        metadata={"description": "the member's users who were sent the message"},
    )
    alternatives = ma.fields.List(
        ma.fields.Nested(OfferedOut),
        metadata={"description": "the free slots its member was offered"},
    )


@blp.route("/<int:downtime_id>/hits")
class DowntimeHits(MethodView):
    @allow(Role.admin, Role.manager)
    @blp.response(200, HitOut(many=True))
    def get(self, downtime_id):
        """The bookings a downtime hit, what became of each and who was told (its house's
        managers)"""
        hits = downtimes.downtime_hits(db(), current_actor(), downtime_id)
        return [
            {
                "booking_id": h.booking.id,
                "member_id": h.booking.member_id,
                "start": _local(h.booking.machine.house, h.booking.start_at),
                "end": _local(h.booking.machine.house, h.booking.end_at),
                "action": h.action,
                "told": h.told,
                "alternatives": [
                    {"machine": name, "start": start.isoformat(), "end": end.isoformat()}
                    for name, start, end in h.alternatives
                ],
            }
            for h in hits
        ]
