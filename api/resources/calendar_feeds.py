"""A member's private iCalendar feed: make, replace or revoke its address, and the public .ics
behind the address (the token in it is the only credential, as calendar apps send no other)."""

from __future__ import annotations

import marshmallow as ma
from flask import Response, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from api.database import db
from api.schemas import Schema
from api.security import allow, current_actor, public
from factoryshare.models import Role
from factoryshare.services import calendar_feeds

URL_PREFIX = "/calendar-feed"
blp = Blueprint("calendar_feeds", __name__, description="My bookings as an iCalendar feed")
ics_blp = Blueprint("calendar_ics", __name__, description="iCalendar documents of feeds")
EXTRA_BLUEPRINTS = [("/calendar", ics_blp)]


class FeedSchema(Schema):
    created_at = ma.fields.AwareDateTime(format="iso")
    last_read_at = ma.fields.AwareDateTime(format="iso", allow_none=True)
    read_count = ma.fields.Integer()


class IssuedFeedSchema(FeedSchema):
    url = ma.fields.String(
        metadata={"description": "the private address to subscribe to; shown only now"}
    )
    webcal_url = ma.fields.String()


def _issued(issued):  # type: ignore[no-untyped-def]
    url = url_for("calendar_ics.FeedDocument", token=issued.token, _external=True)
    return {
        "created_at": issued.feed.created_at,
        "last_read_at": issued.feed.last_read_at,
        "read_count": issued.feed.read_count,
        "url": url,
        "webcal_url": "webcal://" + url.split("://", 1)[1],
    }


@blp.route("")
class MyFeed(MethodView):
    @allow(Role.member)
    @blp.response(200, FeedSchema)
    def get(self):
        """Whether I have a feed, and when it was last read (the address itself is not kept)"""
        return calendar_feeds.get_feed(db(), current_actor())

    @allow(Role.member)
    @blp.response(201, IssuedFeedSchema)
    def post(self):
        """Make my feed's address, or a new one that replaces the old"""
        return _issued(calendar_feeds.issue_feed(db(), current_actor()))

    @allow(Role.member)
    @blp.response(204)
    def delete(self):
        """Revoke my feed: its address stops working"""
        calendar_feeds.revoke_feed(db(), current_actor())


@ics_blp.route("/<string:token>.ics")
class FeedDocument(MethodView):
    @public
    @ics_blp.response(
        200,
        content_type="text/calendar",
        description="The member's bookings as iCalendar (RFC 5545)",
    )
    @ics_blp.alt_response(404, description="Unknown, replaced or revoked address")
    def get(self, token):
        """A member's bookings as iCalendar, for Google Calendar and other calendar apps"""
        body = calendar_feeds.render_feed(db(), token)
        return Response(
            body,
            status=200,
            content_type="text/calendar; charset=utf-8",
            headers={
                "Cache-Control": "private, max-age=300",
                "Content-Disposition": 'inline; filename="factoryshare.ics"',
            },
        )
