"""Free slots per machine of a house, in the house's local time with offsets."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import AwareDateTime, Schema, Text
from api.security import allow, current_actor
from factoryshare import zones
from factoryshare.services import bookings, calendar

URL_PREFIX = "/houses"
blp = Blueprint("availability", __name__, description="When machines are free to book")


class AvailabilityArgs(Schema):
    start = AwareDateTime(required=True)
    end = AwareDateTime(required=True)
    capability = Text(50, min_length=1)
    duration = ma.fields.Integer(
        validate=validate.Range(min=1, max=24 * 60),
        metadata={"description": "minutes the slot must last"},
    )


class WindowOut(Schema):
    start = ma.fields.String()
    end = ma.fields.String()


class MachineSlots(Schema):
    machine_id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    hourly_rate = ma.fields.Integer()
    free = ma.fields.List(ma.fields.Nested(WindowOut))


class AvailabilityOut(Schema):
    house_id = ma.fields.Integer()
    timezone = ma.fields.String()
    zone = ma.fields.String()
    slot_minutes = ma.fields.Integer()
    machines = ma.fields.List(ma.fields.Nested(MachineSlots))


@blp.route("/<int:house_id>/availability")
class Availability(MethodView):
    @allow()
    @blp.arguments(AvailabilityArgs, location="query")
    @blp.response(200, AvailabilityOut)
    def get(self, args, house_id):
        """Free windows per machine: open, not a holiday or closure, not down, not booked,
        not past, on the house's slot grid and at least `duration` minutes long"""
        house, result = bookings.availability(
            db(),
            current_actor(),
            house_id,
            start=args["start"],
            end=args["end"],
            capability=args.get("capability"),
            duration_minutes=args.get("duration"),
        )
        zone = calendar.house_zone(house)
        return {
            "house_id": house.id,
            "timezone": house.timezone,
            "zone": zones.abbreviation(house.timezone),
            "slot_minutes": house.slot_minutes,
            "machines": [
                {
                    "machine_id": m.id,
                    "code": m.code,
                    "name": m.name,
                    "hourly_rate": m.hourly_rate,
                    "free": [
                        {
                            "start": s.astimezone(zone).isoformat(),
                            "end": e.astimezone(zone).isoformat(),
                        }
                        for s, e in windows
                    ],
                }
                for m, windows in result
            ],
        }
