"""Schedule runs: queue a solve of a house's open requests, poll it, discard it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import (
    AwareDateTime,
    Id,
    PageArgs,
    Rupiah,
    Schema,
    Words,
    page_schema,
    paginate,
    strip_page,
)
from api.security import allow, current_actor
from factoryshare.db import MAX_ID
from factoryshare.models import Role
from factoryshare.models.scheduling import RunStatus
from factoryshare.services import run_review
from factoryshare.services import scheduling as service

URL_PREFIX = "/schedule-runs"
blp = Blueprint("schedule_runs", __name__, description="Schedule runs")
house_blp = Blueprint("house_schedule_runs", __name__, description="Schedule runs of a house")
EXTRA_BLUEPRINTS = [("/houses", house_blp)]

STATUSES = [s.value for s in RunStatus]


def _local(run, value):  # type: ignore[no-untyped-def]
    if value is None:
        return None
    return value.astimezone(ZoneInfo(run.house.timezone)).isoformat()


class RunArgs(PageArgs):
    house_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    status = ma.fields.String(validate=validate.OneOf(STATUSES))


class RunCreate(Schema):
    horizon_start = AwareDateTime(required=True)
    horizon_end = AwareDateTime(required=True)
    time_limit_seconds = ma.fields.Integer(
        strict=True, load_default=10, validate=validate.Range(min=1, max=service.MAX_TIME_LIMIT)
    )
    family_setup_minutes = ma.fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=service.MAX_SETUP_MINUTES),
        metadata={
            "description": "cleaning time on a machine between products of different "
            "families (e.g. halal and non_halal)"
        },
    )
    share_cap_percent = ma.fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "most of each capability's open machine time one member may get"},
    )


class AssignmentOut(Schema):
    operation_id = Id()
    request_id = ma.fields.Function(lambda a: a.operation.request_id)
    machine_id = Id()
    start = ma.fields.Function(lambda a: _local(a.run, a.start_at))
    end = ma.fields.Function(lambda a: _local(a.run, a.end_at))
    booking_id = ma.fields.Integer(allow_none=True)


class RunSchema(Schema):
    id = Id(dump_only=True)
    house_id = Id(dump_only=True)
    status = ma.fields.Function(lambda r: r.status.value, dump_only=True)
    horizon_start = ma.fields.Function(lambda r: _local(r, r.horizon_start), dump_only=True)
    horizon_end = ma.fields.Function(lambda r: _local(r, r.horizon_end), dump_only=True)
    time_limit_seconds = ma.fields.Integer(dump_only=True)
    purpose = ma.fields.String(dump_only=True, metadata={"description": "plan or replan"})
    policies = ma.fields.Function(
        lambda r: {k: v for k, v in (r.policies or {}).items() if k != "resolved"}, dump_only=True
    )
    attempts = ma.fields.Integer(dump_only=True)
    started_at = ma.fields.Function(
        lambda r: _local(r, r.started_at), dump_only=True, allow_none=True
    )
    finished_at = ma.fields.Function(
        lambda r: _local(r, r.finished_at), dump_only=True, allow_none=True
    )
    kpis = ma.fields.Dict(dump_only=True, allow_none=True)
    error = ma.fields.String(dump_only=True, allow_none=True)
    assignments = ma.fields.List(ma.fields.Nested(AssignmentOut), dump_only=True)
    created_at = ma.fields.Function(lambda r: _local(r, r.created_at), dump_only=True)


RunPage = page_schema(RunSchema, "ScheduleRunPage")


class NamedOut(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()


class MemberOut(Schema):
    id = ma.fields.Integer()
    business_name = ma.fields.String(allow_none=True)


class SuggestionOut(Schema):
    kind = ma.fields.String(
        metadata={"description": "another_machine, split, permit, higher_share_cap or later_due"}
    )
    words = Words()
    capabilities = ma.fields.List(ma.fields.String())
    max_lot = ma.fields.Integer(
        allow_none=True,
        metadata={
            "description": "split: the largest lot whose every step fits one opening (null: not known)"
        },
    )
    earliest_due = ma.fields.DateTime(allow_none=True)
    not_before = ma.fields.DateTime(
        allow_none=True,
        metadata={"description": "later_due: the run's horizon end, in the house's time"},
    )


class WhyNotOut(Schema):
    kind = ma.fields.String(
        metadata={"description": "no_machine, no_window, deadline, share_cap, capacity or unknown"}
    )
    words = Words()
    suggestions = ma.fields.List(
        ma.fields.Nested(SuggestionOut), metadata={"description": "what would place it"}
    )


class RunRequestOut(Schema):
    request_id = ma.fields.Integer()
    member = ma.fields.Nested(MemberOut)
    product = ma.fields.Nested(NamedOut)
    quantity = ma.fields.Integer()
    status = ma.fields.String()
    due = ma.fields.DateTime(metadata={"description": "in the house's time"})
    placed = ma.fields.Boolean()
    start = ma.fields.DateTime(allow_none=True, metadata={"description": "planned, house time"})
    finish = ma.fields.DateTime(allow_none=True, metadata={"description": "planned, house time"})
    lateness_minutes = ma.fields.Integer(
        allow_none=True, metadata={"description": "0 when on time"}
    )
    on_time = ma.fields.Boolean()
    machine_cost = Rupiah(
        metadata={
            "description": "rupiah: per assignment working minutes x hourly rate / 60, half to even"
        }
    )
    why_not = ma.fields.Nested(WhyNotOut, allow_none=True)


class RunReview(Schema):
    on_time_share = ma.fields.Float(
        allow_none=True,
        metadata={
            "description": "requests on time over all requests of the run (left out: not on time)"
        },
    )
    machine_cost = Rupiah()
    requests = ma.fields.List(ma.fields.Nested(RunRequestOut))


class RunDetail(RunSchema):
    on_time_share = ma.fields.Float(
        attribute="review.on_time_share",
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "requests on time over all requests of the run (left out: not on time)"
        },
    )
    machine_cost = Rupiah(attribute="review.machine_cost", dump_only=True)
    requests = ma.fields.List(
        ma.fields.Nested(RunRequestOut), attribute="review.requests", dump_only=True
    )


@blp.route("")
class ScheduleRuns(MethodView):
    @allow()
    @blp.arguments(RunArgs, location="query")
    @blp.response(200, RunPage)
    def get(self, args):
        """Schedule runs in my scope, newest first"""
        filters, paging = strip_page(args)
        return paginate(db(), service.list_runs(db(), current_actor(), **filters), paging)


@blp.route("/<int:run_id>")
class ScheduleRunById(MethodView):
    @allow()
    @blp.response(200, RunDetail)
    def get(self, run_id):
        """One run: status, KPIs, proposed assignments and its requests, in the house's time"""
        return run_review.get_run_reviewed(db(), current_actor(), run_id)


@blp.route("/<int:run_id>/requests")
class ScheduleRunRequests(MethodView):
    @allow(Role.admin, Role.manager)
    @blp.response(200, RunReview)
    def get(self, run_id):
        """The run's production requests: planned times, lateness, machine cost, or why left out"""
        return run_review.review_run(db(), current_actor(), run_id)


@blp.route("/<int:run_id>/discard")
class ScheduleRunDiscard(MethodView):
    @allow(Role.admin, Role.manager)
    @blp.response(200, RunSchema)
    @blp.alt_response(409, description="The run is already published or discarded")
    def post(self, run_id):
        """Discard a run"""
        return service.discard_run(db(), current_actor(), run_id)


class SlotOut(Schema):
    booking_id = ma.fields.Integer()
    machine_id = ma.fields.Integer()
    start = AwareDateTime()
    end = AwareDateTime()


class ChangeOut(Schema):
    operation_id = ma.fields.Integer()
    request_id = ma.fields.Integer()
    change = ma.fields.String(
        metadata={
            "description": "new (booked on publish), moved (its booking moves, same id), unchanged "
            "(its booking stays) or dropped (its booking is cancelled)"
        }
    )
    proposed = ma.fields.Nested(SlotOut, allow_none=True)
    published = ma.fields.Nested(SlotOut, allow_none=True)


@blp.route("/<int:run_id>/diff")
class ScheduleRunDiff(MethodView):
    @allow(Role.admin, Role.manager)
    @blp.response(200, ChangeOut(many=True))
    def get(self, run_id):
        """The run's proposal against what is published now, operation by operation"""
        return service.diff_run(db(), current_actor(), run_id)


class ChangedSinceOut(Schema):
    booking_id = ma.fields.Integer()
    change = ma.fields.String(metadata={"description": "created, moved or cancelled"})
    at = AwareDateTime()


class PublishEffectsOut(Schema):
    run_id = ma.fields.Integer()
    creates = ma.fields.Integer(metadata={"description": "bookings publishing makes"})
    moves = ma.fields.Integer(metadata={"description": "published bookings it moves"})
    cancels = ma.fields.Integer(metadata={"description": "published bookings it cancels"})
    unchanged = ma.fields.Integer()
    members_told = ma.fields.Integer(metadata={"description": "members it tells"})
    changed_since = ma.fields.List(
        ma.fields.Nested(ChangedSinceOut),
        metadata={
            "description": "bookings of the house and horizon changed since the solve: publishing "
            "would answer 409 stale_run; queue a fresh run"
        },
    )
    publishable = ma.fields.Boolean(
        metadata={"description": "solved and nothing changed since: publishing would apply it"}
    )
    discardable = ma.fields.Boolean(metadata={"description": "the run may be discarded"})
    rerun_advised = ma.fields.Boolean(
        metadata={"description": "stale, failed or overtaken by changes: queue it again"}
    )


@blp.route("/<int:run_id>/publish-effects")
class ScheduleRunPublishEffects(MethodView):
    @allow(Role.admin, Role.manager)
    @blp.response(200, PublishEffectsOut)
    def get(self, run_id):
        """What publishing the run would do now: bookings made, moved, cancelled, members told"""
        return run_review.publish_effects(db(), current_actor(), run_id)


@blp.route("/<int:run_id>/publish")
class ScheduleRunPublish(MethodView):
    @allow(Role.admin, Role.manager)
    @blp.response(200, RunSchema)
    @blp.alt_response(
        409,
        description="Not publishable; a request is no longer open; an "
        "assignment no longer passes a booking's checks (named); "
        "or stale_run: the published schedule changed since the "
        "solve (the bookings named, the run is now stale)",
    )
    def post(self, run_id):
        """Publish a run: apply its change list to the published schedule, all or nothing"""
        try:
            return service.publish_run(db(), current_actor(), run_id)
        except service.StaleRun:
            db().commit()  # the run stays marked stale; the service changed nothing else
            raise


@blp.route("/<int:run_id>/problem.json")
class ScheduleRunProblem(MethodView):
    @allow(Role.admin, Role.manager)
    @blp.response(200, description="A factoryshare-problem/1 document")
    @blp.alt_response(409, description="The run has not been solved yet")
    def get(self, run_id):
        """The exact problem this run solved (replay it with `factoryshare solve`)"""
        return service.problem_of(db(), current_actor(), run_id)


@house_blp.route("/<int:house_id>/schedule-runs")
class HouseScheduleRuns(MethodView):
    @allow(Role.admin, Role.manager)
    @house_blp.arguments(PageArgs, location="query")
    @house_blp.response(200, RunPage)
    def get(self, args, house_id):
        """This house's schedule runs, newest first"""
        _, paging = strip_page(args)
        return paginate(db(), service.list_house_runs(db(), current_actor(), house_id), paging)

    @allow(Role.admin, Role.manager)
    @house_blp.arguments(RunCreate)
    @house_blp.response(202, RunSchema)
    def post(self, data, house_id):
        """Queue a solve of the house's open requests; poll the run for its result"""
        return service.queue_run(db(), current_actor(), house_id, data)
