"""A house's utilisation over an ISO week: per machine, open minutes, booked minutes, share."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import Schema
from api.security import allow, current_actor
from factoryshare.models import Role
from factoryshare.services import run_review

URL_PREFIX = "/houses"
blp = Blueprint("utilisation", __name__, description="Utilisation of a house's machines")


class WeekArgs(Schema):
    week = ma.fields.String(
        required=True,
        validate=validate.Length(max=8),
        metadata={
            "description": "ISO week, YYYY-Www (Monday to Sunday in the house's time)",
            "example": "2030-W10",
        },
    )


class MachineUtilisation(Schema):
    machine_id = ma.fields.Integer()
    machine_name = ma.fields.String()
    open_minutes = ma.fields.Integer(
        metadata={"description": "opening hours less holidays, closures and downtimes"}
    )
    booked_minutes = ma.fields.Integer(
        metadata={
            "description": "held, confirmed, completed and no-show bookings inside the open minutes"
        }
    )
    share = ma.fields.Float(allow_none=True, metadata={"description": "null: not open that week"})


class UtilisationOut(Schema):
    house_id = ma.fields.Integer()
    week = ma.fields.String()
    start = ma.fields.DateTime(metadata={"description": "Monday 00:00, house time"})
    end = ma.fields.DateTime(metadata={"description": "the next Monday 00:00, house time"})
    machines = ma.fields.List(ma.fields.Nested(MachineUtilisation))


@blp.route("/<int:house_id>/utilisation")
class HouseUtilisation(MethodView):
    @allow(Role.admin, Role.manager)
    @blp.arguments(WeekArgs, location="query")
    @blp.response(200, UtilisationOut)
    def get(self, args, house_id):
        """Per machine of the house: open and booked minutes over an ISO week, and the share"""
        return run_review.week_utilisation(db(), current_actor(), house_id, args["week"])
