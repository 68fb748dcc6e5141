"""A user's own notifications: what the service told it, and whether it was delivered."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import Id, PageArgs, Schema, page_schema, paginate, strip_page
from api.security import allow, current_actor
from factoryshare.db import MAX_ID
from factoryshare.models.notifications import NotificationStatus
from factoryshare.services import notifications

URL_PREFIX = "/notifications"
blp = Blueprint("notifications", __name__, description="Messages sent to the signed-in user")


class NotificationArgs(PageArgs):
    status = ma.fields.String(validate=validate.OneOf([s.value for s in NotificationStatus]))
    # Query strings are text, so not the strict Id() of JSON bodies.
    user_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID),
                                metadata={"description": "admins only: another user's messages"})


class NotificationSchema(Schema):
    id = Id(dump_only=True)
    user_id = Id(dump_only=True)
    template = ma.fields.String(dump_only=True)
    language = ma.fields.String(dump_only=True)
    subject = ma.fields.String(dump_only=True)
    body = ma.fields.String(dump_only=True)
    status = ma.fields.Function(lambda n: n.status.value, dump_only=True)
    attempts = ma.fields.Integer(dump_only=True)
    next_attempt_at = ma.fields.AwareDateTime(format="iso", dump_only=True, allow_none=True)
    last_error = ma.fields.String(dump_only=True, allow_none=True)
    created_at = ma.fields.AwareDateTime(format="iso", dump_only=True)
    sent_at = ma.fields.AwareDateTime(format="iso", dump_only=True, allow_none=True)


NotificationPage = page_schema(NotificationSchema, "NotificationPage")


@blp.route("")
class Notifications(MethodView):
    @allow()
    @blp.arguments(NotificationArgs, location="query")
    @blp.response(200, NotificationPage)
    def get(self, args):
        """My notifications, newest first"""
        filters, paging = strip_page(args)
        stmt = notifications.list_notifications(db(), current_actor(), **filters)
        return paginate(db(), stmt, paging)


@blp.route("/<int:notification_id>")
class NotificationById(MethodView):
    @allow()
    @blp.response(200, NotificationSchema)
    def get(self, notification_id):
        """One of my notifications"""
        return notifications.get_notification(db(), current_actor(), notification_id)
