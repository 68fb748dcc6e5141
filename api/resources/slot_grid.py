"""The day grid of free slots a member books from (the same grid the booking page shows)."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import Schema, Text, Words
from api.security import allow, current_actor
from factoryshare.services import slot_grid

URL_PREFIX = "/houses"
blp = Blueprint("slot_grid", __name__, description="The day grid of free slots")


class SlotGridArgs(Schema):
    day = ma.fields.Date(required=True, metadata={"description": "a local date of the house"})
    capability = Text(50, min_length=1)
    duration = ma.fields.Integer(
        load_default=60,
        validate=validate.Range(min=1, max=24 * 60),
        metadata={"description": "minutes each slot lasts; one of the house's `durations`"},
    )


class GridSlotOut(Schema):
    start = ma.fields.String(metadata={"description": "in the house's time zone"})
    end = ma.fields.String()
    price = ma.fields.Integer(metadata={"description": "rupiah"})


class GridMachineOut(Schema):
    machine_id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    hourly_rate = ma.fields.Integer()
    slots = ma.fields.List(
        ma.fields.Nested(GridSlotOut),
        metadata={"description": "every free start of the day for `duration` minutes"},
    )


class SlotGridOut(Schema):
    house_id = ma.fields.Integer()
    day = ma.fields.Date()
    timezone = ma.fields.String()
    zone = ma.fields.String()
    duration = ma.fields.Integer()
    durations = ma.fields.List(ma.fields.Integer())
    closed = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "why nothing can be booked that day: past, too_far_ahead, holiday, "
            "closure, not_open; null when open"
        },
    )
    holiday = Words(allow_none=True)
    closure_reason = Words(allow_none=True)
    previous = ma.fields.Date(allow_none=True)
    following = ma.fields.Date(allow_none=True)
    starts = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "the grid's columns: each start on the house's slot grid"},
    )
    machines = ma.fields.List(ma.fields.Nested(GridMachineOut))


@blp.route("/<int:house_id>/slot-grid")
class SlotGrid(MethodView):
    @allow()
    @blp.arguments(SlotGridArgs, location="query")
    @blp.response(200, SlotGridOut)
    def get(self, args, house_id):
        """Free slots of one day, per machine: every start on the house's slot grid"""
        grid = slot_grid.day_grid(
            db(),
            current_actor(),
            house_id,
            args["day"],
            duration_minutes=args["duration"],
            capability=args.get("capability"),
        )
        return slot_grid.grid_as_dict(grid)
