"""The audit trail: admins read all of it, managers the events of their houses."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import AwareDateTime, Id, PageArgs, Schema, Text, page_schema, paginate, strip_page
from api.security import allow, current_actor
from factoryshare.db import MAX_ID
from factoryshare.models import Role
from factoryshare.services import audit_log

URL_PREFIX = "/audit"
blp = Blueprint(
    "audit", __name__, description="Who did what, when (admins; managers for their houses)"
)


class AuditArgs(PageArgs):
    object_type = Text(
        60, min_length=1, metadata={"description": "the table name, e.g. bookings, members"}
    )
    object_id = Text(60, min_length=1)
    actor_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    action = Text(60, min_length=1)
    since = AwareDateTime()
    until = AwareDateTime()
    house_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class AuditEventSchema(Schema):
    id = Id(dump_only=True)
    at = ma.fields.AwareDateTime(format="iso", dump_only=True)
    actor_id = ma.fields.Integer(dump_only=True, allow_none=True)
    action = ma.fields.String(dump_only=True)
    object_type = ma.fields.String(dump_only=True)
    object_id = ma.fields.String(dump_only=True)
    before = ma.fields.Dict(dump_only=True, allow_none=True)
    after = ma.fields.Dict(dump_only=True, allow_none=True)
    house_id = ma.fields.Integer(
        dump_only=True, allow_none=True, metadata={"description": "the house the object belongs to"}
    )


AuditPage = page_schema(AuditEventSchema, "AuditEventPage")


@blp.route("")
class AuditEvents(MethodView):
    @allow(Role.admin, Role.manager)
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, AuditPage)
    def get(self, args):
        """Audit events, newest first, filtered by object, actor, action, time and house"""
        filters, paging = strip_page(args)
        return paginate(db(), audit_log.list_events(db(), current_actor(), **filters), paging)
