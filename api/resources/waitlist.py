"""The waitlist: wait for a taken machine slot and be told when it frees."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import AwareDateTime, Id, PageArgs, Schema, page_schema, paginate, strip_page
from api.security import allow, current_actor
from factoryshare.db import MAX_ID
from factoryshare.models import Role
from factoryshare.models.booking_extras import WaitStatus
from factoryshare.services import calendar, waitlist

URL_PREFIX = "/waitlist"
blp = Blueprint("waitlist", __name__, description="Waiting for taken machine slots")


def _local(entry, value):  # type: ignore[no-untyped-def]
    if value is None:
        return None
    return value.astimezone(calendar.house_zone(entry.machine.house)).isoformat()


class _InQueue:
    """A waitlist entry with its place in the queue (waitlist.positions: once for a page)."""

    def __init__(self, entry: Any, position: int | None) -> None:
        self.entry, self.position = entry, position

    def __getattr__(self, name: str) -> Any:
        return getattr(self.entry, name)


def _in_queue(entries: list[Any]) -> list[_InQueue]:
    places = waitlist.positions(db(), entries)
    return [_InQueue(e, places[e.id]) for e in entries]


class EntrySchema(Schema):
    id = Id(dump_only=True)
    machine_id = Id(dump_only=True)
    member_id = Id(dump_only=True)
    start = ma.fields.Function(lambda e: _local(e, e.start_at), dump_only=True)
    end = ma.fields.Function(lambda e: _local(e, e.end_at), dump_only=True)
    status = ma.fields.Function(
        lambda e: e.status.value,
        dump_only=True,
        metadata={
            "description": "waiting, notified (the slot freed and the member was told) or cancelled"
        },
    )
    position = ma.fields.Integer(
        dump_only=True,
        allow_none=True,
        metadata={"description": "1 = told first when the slot frees"},
    )
    notified_at = ma.fields.Function(
        lambda e: _local(e, e.notified_at), dump_only=True, allow_none=True
    )
    created_at = ma.fields.AwareDateTime(format="iso", dump_only=True)


EntryPage = page_schema(EntrySchema, "WaitlistPage")


class EntryCreate(Schema):
    machine_id = Id(required=True)
    start = AwareDateTime(required=True)
    end = AwareDateTime(required=True)
    member_id = Id(metadata={"description": "managers: the member who waits"})


class EntryArgs(PageArgs):
    machine_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    status = ma.fields.String(validate=validate.OneOf([s.value for s in WaitStatus]))


@blp.route("")
class Waitlist(MethodView):
    @allow(Role.admin, Role.manager, Role.member)
    @blp.arguments(EntryArgs, location="query")
    @blp.response(200, EntryPage)
    def get(self, args):
        """Waitlist entries in my scope"""
        filters, paging = strip_page(args)
        page = paginate(db(), waitlist.list_entries(db(), current_actor(), **filters), paging)
        return {**page, "items": _in_queue(page["items"])}

    @allow(Role.admin, Role.manager, Role.member)
    @blp.arguments(EntryCreate)
    @blp.response(201, EntrySchema)
    @blp.alt_response(
        409,
        description="slot_free (book it instead), already_waiting, "
        "in_the_past, holiday, house_closed, machine_downtime, "
        "outside_opening_hours",
    )
    def post(self, data):
        """Wait for a taken slot; the first member waiting is told when it frees"""
        return _in_queue([waitlist.join_waitlist(db(), current_actor(), **data)])[0]


@blp.route("/<int:entry_id>")
class WaitlistEntryById(MethodView):
    @allow(Role.admin, Role.manager, Role.member)
    @blp.response(200, EntrySchema)
    def get(self, entry_id):
        """One waitlist entry"""
        return _in_queue([waitlist.get_entry(db(), current_actor(), entry_id)])[0]


@blp.route("/<int:entry_id>/cancel")
class WaitlistLeave(MethodView):
    @allow(Role.admin, Role.manager, Role.member)
    @blp.response(200, EntrySchema)
    def post(self, entry_id):
        """Stop waiting"""
        return _in_queue([waitlist.leave_waitlist(db(), current_actor(), entry_id)])[0]
