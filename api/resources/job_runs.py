"""Recorded runs of the scheduled jobs (admins)."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from api.database import db
from api.schemas import AwareDateTime, PageArgs, Text, page_schema, paginate, strip_page
from api.security import allow, current_actor
from factoryshare import jobs
from factoryshare.models import Role

URL_PREFIX = "/job-runs"
blp = Blueprint("job_runs", __name__, description="Scheduled job runs (admin)")


class JobRunArgs(PageArgs):
    job = Text(60, load_default=None)


class JobRunSchema(ma.Schema):
    id = ma.fields.Integer()
    job = ma.fields.String()
    started_at = AwareDateTime()
    finished_at = AwareDateTime(allow_none=True)
    status = ma.fields.Function(lambda r: r.status.value)
    counts = ma.fields.Dict()
    error = ma.fields.String(allow_none=True)
    host = ma.fields.String()


JobRunPage = page_schema(JobRunSchema, "JobRunPage")


@blp.route("")
class JobRuns(MethodView):
    @allow(Role.admin)
    @blp.arguments(JobRunArgs, location="query")
    @blp.response(200, JobRunPage)
    def get(self, args):
        """The latest job runs first"""
        filters, paging = strip_page(args)
        return paginate(db(), jobs.list_runs(db(), current_actor(), filters.get("job")), paging)
