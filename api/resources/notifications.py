"""A user's own notifications: what the service told it, whether it was delivered by e-mail,
and whether the user has read it in the app (unread count, mark one or all read)."""

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
    user_id = ma.fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "admins only: another user's messages"},
    )
    unread = ma.fields.Boolean(metadata={"description": "true: only unread, false: only read"})


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
    read_at = ma.fields.AwareDateTime(format="iso", dump_only=True, allow_none=True)
    read = ma.fields.Function(lambda n: n.read_at is not None, dump_only=True)


NotificationPage = page_schema(NotificationSchema, "NotificationPage")


class UnreadCountSchema(Schema):
    unread = ma.fields.Integer(dump_only=True)


class MarkedSchema(Schema):
    marked = ma.fields.Integer(dump_only=True)


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


@blp.route("/unread-count")
class UnreadCount(MethodView):
    @allow()
    @blp.response(200, UnreadCountSchema)
    def get(self):
        """How many of my notifications I have not read"""
        return {"unread": notifications.unread_count(db(), current_actor())}


@blp.route("/<int:notification_id>/read")
class MarkRead(MethodView):
    @allow()
    @blp.response(200, NotificationSchema)
    def post(self, notification_id):
        """Mark one of my notifications read"""
        return notifications.mark_read(db(), current_actor(), notification_id)


@blp.route("/read-all")
class MarkAllRead(MethodView):
    @allow()
    @blp.response(200, MarkedSchema)
    def post(self):
        """Mark all my notifications read"""
        return {"marked": notifications.mark_all_read(db(), current_actor())}
