"""Invitations into clusters: the member (or its house's manager, with a reason) answers."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import Id, PageArgs, Schema, Text, page_schema, paginate, strip_page
from api.security import allow, current_actor
from factoryshare.db import MAX_ID
from factoryshare.models import Role
from factoryshare.models.members import InvitationStatus
from factoryshare.services import cluster_invitations

URL_PREFIX = "/cluster-invitations"
blp = Blueprint(
    "cluster_invitations",
    __name__,
    description="Invitations into clusters and the members' answers",
)

STATUSES = [s.value for s in InvitationStatus]


class InvitationArgs(PageArgs):
    status = ma.fields.String(validate=validate.OneOf(STATUSES))
    cluster_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class AnswerIn(Schema):
    reason = Text(
        cluster_invitations.MAX_REASON,
        metadata={
            "description": "required when a manager (or an admin) answers on the member's behalf"
        },
    )


class InvitationSchema(Schema):
    id = Id(dump_only=True)
    cluster_id = ma.fields.Integer(dump_only=True)
    cluster_name = ma.fields.Function(lambda i: i.cluster.name, dump_only=True)
    aggregator_id = ma.fields.Function(lambda i: i.cluster.aggregator_id, dump_only=True)
    aggregator_name = ma.fields.Function(lambda i: i.cluster.aggregator.name, dump_only=True)
    member_id = ma.fields.Integer(dump_only=True)
    owner_name = ma.fields.Function(lambda i: i.member.owner_name, dump_only=True)
    business_name = ma.fields.Function(lambda i: i.member.business_name, dump_only=True)
    status = ma.fields.Function(lambda i: i.status.value, dump_only=True)
    invited_at = ma.fields.AwareDateTime(format="iso", dump_only=True)
    decided_at = ma.fields.AwareDateTime(format="iso", dump_only=True, allow_none=True)
    decided_by_id = ma.fields.Integer(dump_only=True, allow_none=True)
    on_behalf = ma.fields.Boolean(
        dump_only=True, metadata={"description": "answered by a manager of the member's house"}
    )
    reason = ma.fields.String(dump_only=True)


InvitationPage = page_schema(InvitationSchema, "ClusterInvitationPage")


@blp.route("")
class Invitations(MethodView):
    @allow()
    @blp.arguments(InvitationArgs, location="query")
    @blp.response(200, InvitationPage)
    def get(self, args):
        """Cluster invitations in my scope (a member's own, newest first)"""
        filters, paging = strip_page(args)
        return paginate(
            db(), cluster_invitations.list_invitations(db(), current_actor(), **filters), paging
        )


@blp.route("/<int:invitation_id>")
class InvitationById(MethodView):
    @allow()
    @blp.response(200, InvitationSchema)
    def get(self, invitation_id):
        """One cluster invitation"""
        return cluster_invitations.get_invitation(db(), current_actor(), invitation_id)


@blp.route("/<int:invitation_id>/accept")
class Accept(MethodView):
    @allow(Role.admin, Role.manager, Role.member)
    @blp.arguments(AnswerIn)
    @blp.response(200, InvitationSchema)
    @blp.alt_response(409, description="The invitation was already answered or withdrawn")
    def post(self, data, invitation_id):
        """Accept an invitation: the member joins the cluster"""
        return cluster_invitations.accept_invitation(
            db(), current_actor(), invitation_id, data.get("reason")
        )


@blp.route("/<int:invitation_id>/decline")
class Decline(MethodView):
    @allow(Role.admin, Role.manager, Role.member)
    @blp.arguments(AnswerIn)
    @blp.response(200, InvitationSchema)
    @blp.alt_response(409, description="The invitation was already answered or withdrawn")
    def post(self, data, invitation_id):
        """Decline an invitation: the member stays out of the cluster"""
        return cluster_invitations.decline_invitation(
            db(), current_actor(), invitation_id, data.get("reason")
        )
