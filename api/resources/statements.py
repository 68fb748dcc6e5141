"""Monthly statements: a member's bookings and amounts per month, as JSON or CSV."""

from __future__ import annotations

import marshmallow as ma
from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import Schema
from api.security import allow, current_actor
from factoryshare.messages import rupiah
from factoryshare.models import Role
from factoryshare.services import statements

URL_PREFIX = "/members"
blp = Blueprint("statements", __name__, description="Members' monthly statements")

_MONTH = {"description": "YYYY-MM; the month in the house's zone"}


class LineSchema(Schema):
    booking_id = ma.fields.Integer()
    machine_id = ma.fields.Integer()
    machine = ma.fields.String()
    start = ma.fields.Function(lambda line: line.start.isoformat())
    end = ma.fields.Function(lambda line: line.end.isoformat())
    minutes = ma.fields.Integer()
    status = ma.fields.Function(lambda line: line.status.value)
    price = ma.fields.Integer(metadata={"description": "integer rupiah frozen on the booking"})
    charged = ma.fields.Integer(metadata={"description": "what this line adds to the total"})
    house_id = ma.fields.Integer(metadata={"description": "the house the booking is at"})
    house = ma.fields.String(attribute="house_name")
    address = ma.fields.String()
    timezone = ma.fields.String(
        metadata={"description": "the booking's house's zone; start and end are local times there"}
    )
    zone = ma.fields.String(metadata={"description": "WIB, WITA or WIT"})


class MachineTotalSchema(Schema):
    machine_id = ma.fields.Integer()
    machine = ma.fields.String()
    minutes = ma.fields.Integer()
    charged = ma.fields.Integer()


class StatementSchema(Schema):
    member_id = ma.fields.Function(lambda s: s.member.id)
    member = ma.fields.Function(lambda s: s.member.business_name)
    house_id = ma.fields.Function(lambda s: s.house.id)
    month = ma.fields.String()
    timezone = ma.fields.Function(lambda s: s.house.timezone)
    zone = ma.fields.String()
    lines = ma.fields.List(ma.fields.Nested(LineSchema))
    by_machine = ma.fields.Function(
        lambda s: s.by_machine(), metadata={"description": "charged minutes and rupiah per machine"}
    )
    charged = ma.fields.Integer(metadata={"description": "completed bookings and no-shows"})
    charged_text = ma.fields.Function(
        lambda s: rupiah(s.charged), metadata={"description": "e.g. Rp1.500.000"}
    )
    scheduled = ma.fields.Integer(metadata={"description": "held and confirmed, not done yet"})
    scheduled_text = ma.fields.Function(lambda s: rupiah(s.scheduled))
    minutes_charged = ma.fields.Integer()
    minutes_scheduled = ma.fields.Integer()
    cancelled_count = ma.fields.Integer()


class CsvArgs(Schema):
    language = ma.fields.String(
        load_default="id",
        validate=validate.OneOf(["id", "en"]),
        metadata={"description": "column headers"},
    )


@blp.route("/<int:member_id>/statements/<string:month>")
class MemberStatement(MethodView):
    @allow(Role.admin, Role.manager, Role.member)
    @blp.response(200, StatementSchema)
    @blp.doc(parameters=[{"in": "path", "name": "month", "schema": {"type": "string"}, **_MONTH}])
    def get(self, member_id, month):
        """A member's statement for a month: every booking, charged and scheduled amounts"""
        return statements.member_statement(db(), current_actor(), member_id, month)


@blp.route("/<int:member_id>/statements/<string:month>.csv")
class MemberStatementCsv(MethodView):
    @allow(Role.admin, Role.manager, Role.member)
    @blp.arguments(CsvArgs, location="query")
    @blp.response(200, content_type="text/csv", description="The statement as CSV")
    def get(self, args, member_id, month):
        """The same statement as CSV for a spreadsheet"""
        statement = statements.member_statement(db(), current_actor(), member_id, month)
        body = statements.statement_csv(statement, args["language"])
        filename = f"statement-{statement.member.id}-{statement.month}.csv"
        return Response(
            body,
            status=200,
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
