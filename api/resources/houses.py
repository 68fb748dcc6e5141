"""Production houses, their closures and the days they are shut."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import Id, PageArgs, Schema, Text, page_schema, paginate, strip_page
from api.security import allow, current_actor
from factoryshare.models import Role
from factoryshare.services import calendar, houses

URL_PREFIX = "/houses"
blp = Blueprint("houses", __name__, description="Production houses, opening hours and closures")

OPENING_HOURS_EXAMPLE = {"mon": [["08:00", "12:00"], ["13:00", "17:00"]], "sat": [["08:00", "12:00"]]}


def _opening_hours(**kwargs) -> ma.fields.Dict:  # type: ignore[no-untyped-def]
    # The shape only; the service checks days, times and overlaps and names the bad entry.
    return ma.fields.Dict(
        keys=ma.fields.String(validate=validate.Length(max=10)),
        values=ma.fields.List(ma.fields.List(ma.fields.String(validate=validate.Length(max=8)),
                                             validate=validate.Length(max=2)),
                              validate=validate.Length(max=12)),
        metadata={"description": "weekday (mon..sun) to local [opens, closes] pairs; a day left "
                                 "out is closed", "example": OPENING_HOURS_EXAMPLE},
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
    slot_minutes = ma.fields.Integer(strict=True, validate=validate.Range(min=5, max=240),
                                     metadata={"description": "booking granularity"})
    requires_confirmation = ma.fields.Boolean()
    hold_minutes = ma.fields.Integer(strict=True, validate=validate.Range(min=0, max=14 * 24 * 60))
    max_days_ahead = ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=366))
    financing_decision_days = ma.fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=90),
        metadata={"description": "held slots whose loan is still undecided this many days before "
                                 "they start are released; null: no deadline"})
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
    zone = ma.fields.Function(lambda h: calendar.zone_abbreviation(h.timezone), dump_only=True,
                              metadata={"description": "WIB, WITA or WIT"})
    opening_hours = ma.fields.Dict(dump_only=True)
    slot_minutes = ma.fields.Integer(dump_only=True)
    requires_confirmation = ma.fields.Boolean(dump_only=True)
    hold_minutes = ma.fields.Integer(dump_only=True)
    max_days_ahead = ma.fields.Integer(dump_only=True)
    financing_decision_days = ma.fields.Integer(dump_only=True, allow_none=True)
    contact_phone = ma.fields.String(dump_only=True)
    contact_email = ma.fields.String(dump_only=True)
    created_at = ma.fields.AwareDateTime(format="iso", dump_only=True)


HousePage = page_schema(HouseSchema, "HousePage")


class ClosureArgs(Schema):
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


class ClosedDaysArgs(Schema):
    year = ma.fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))


class ClosedDay(Schema):
    date = ma.fields.Date()
    kind = ma.fields.String(metadata={"description": "holiday (national, incl. cuti bersama) or closure"})
    name = ma.fields.String()


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
    @blp.arguments(HouseUpdate)
    @blp.response(200, HouseSchema)
    @blp.alt_response(409, description="Another house has this name")
    def patch(self, data, house_id):
        """Change a house's settings (its managers or an admin)"""
        return houses.update_house(db(), current_actor(), house_id, data)

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
    @blp.response(200, ClosureSchema(many=True))
    def get(self, args, house_id):
        """The house's own closures (beyond the national calendar)"""
        return houses.list_closures(db(), current_actor(), house_id, **args)

    @allow(Role.admin, Role.manager)
    @blp.arguments(ClosureCreate)
    @blp.response(201, ClosureSchema)
    @blp.alt_response(409, description="Overlaps a closure the house already has")
    def post(self, data, house_id):
        """Close the house on some days (inclusive, local dates)"""
        return houses.add_closure(db(), current_actor(), house_id, **data)


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
