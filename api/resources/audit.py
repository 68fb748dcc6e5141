"""The audit trail: admins read all of it, managers the events of their houses."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import (
    AwareDateTime,
    CursorCodec,
    Id,
    PageArgs,
    Schema,
    Text,
    aware,
    cursor_args,
    cursor_envelope,
    cursor_page_schema,
)
from api.security import allow, current_actor
from factoryshare.db import MAX_ID
from factoryshare.models import Role
from factoryshare.services import audit_log

URL_PREFIX = "/audit"
blp = Blueprint(
    "audit", __name__, description="Who did what, when (admins; managers for their houses)"
)


# A position in the trail: the last event's time and id (the order, newest first).
CURSOR = CursorCodec(
    "audit",
    dump=lambda p: [p[0].isoformat(), p[1]],
    load=lambda v: (aware(v[0]), int(v[1])),
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
    cursor = CURSOR.field()


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


AuditPage = cursor_page_schema(AuditEventSchema, "AuditEventPage")


@blp.route("")
class AuditEvents(MethodView):
    @allow(Role.admin, Role.manager)
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, AuditPage)
    def get(self, args):
        """Audit events, newest first, filtered by object, actor, action, time and house.

        Like the bookings list: `next` as `cursor` gives the page after, at any depth; a page
        by number counts `total` up to 10,000 and reaches 100,000 events deep at most."""
        filters, paging = cursor_args(args)
        listed = audit_log.page_of_events(db(), current_actor(), **paging, **filters)
        return cursor_envelope(listed, CURSOR, paging)
