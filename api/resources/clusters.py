"""Clusters: an aggregator's groups of member businesses producing in a house."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import (
    Id,
    PageArgs,
    Schema,
    Text,
    page_schema,
    paginate,
    paginate_list,
    strip_page,
)
from api.security import allow, current_actor
from factoryshare.db import MAX_ID
from factoryshare.models import Role, Sector
from factoryshare.services import clusters, loans

URL_PREFIX = "/clusters"
blp = Blueprint("clusters", __name__, description="Clusters of members")

SECTORS = [s.value for s in Sector]


class ClusterArgs(PageArgs):
    house_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    sector = ma.fields.String(validate=validate.OneOf(SECTORS))


class ClusterUpdate(Schema):
    name = Text(160, min_length=1)
    sector = ma.fields.String(validate=validate.OneOf(SECTORS))
    house_id = Id(allow_none=True, metadata={"description": "the house the cluster produces in"})
    chair_member_id = Id(allow_none=True, metadata={"description": "must be one of member_ids"})
    member_ids = ma.fields.List(
        Id(),
        validate=validate.Length(max=500),
        metadata={
            "description": "the members wanted in the cluster: those not in it yet are invited "
            "(they join by accepting), those left out are taken out or un-invited"
        },
    )


class ClusterCreate(ClusterUpdate):
    aggregator_id = Id(metadata={"description": "admins only; an aggregator creates its own"})
    name = Text(160, min_length=1, required=True)
    sector = ma.fields.String(required=True, validate=validate.OneOf(SECTORS))


class InviteeSchema(Schema):
    """A member invited but not (yet) in the cluster: its name and business, nothing more."""

    invitation_id = ma.fields.Integer(attribute="id", dump_only=True)
    member_id = ma.fields.Integer(dump_only=True)
    owner_name = ma.fields.Function(lambda i: i.member.owner_name, dump_only=True)
    business_name = ma.fields.Function(lambda i: i.member.business_name, dump_only=True)


class ClusterSchema(Schema):
    id = Id(dump_only=True)
    aggregator_id = Id(dump_only=True)
    name = ma.fields.String(dump_only=True)
    sector = ma.fields.Function(lambda c: c.sector.value, dump_only=True)
    house_id = ma.fields.Integer(dump_only=True, allow_none=True)
    chair_member_id = ma.fields.Integer(dump_only=True, allow_none=True)
    member_ids = ma.fields.Function(
        lambda c: [m.id for m in c.members],
        dump_only=True,
        metadata={"description": "the members who accepted"},
    )
    invited = ma.fields.List(
        ma.fields.Nested(InviteeSchema),
        attribute="pending_invitations",
        dump_only=True,
        metadata={"description": "invitations waiting for the member's answer"},
    )
    created_at = ma.fields.AwareDateTime(format="iso", dump_only=True)


ClusterPage = page_schema(ClusterSchema, "ClusterPage")


@blp.route("")
class Clusters(MethodView):
    @allow()
    @blp.arguments(ClusterArgs, location="query")
    @blp.response(200, ClusterPage)
    def get(self, args):
        """Clusters in my scope"""
        filters, paging = strip_page(args)
        return paginate(db(), clusters.list_clusters(db(), current_actor(), **filters), paging)

    @allow(Role.admin, Role.aggregator)
    @blp.arguments(ClusterCreate)
    @blp.response(201, ClusterSchema)
    @blp.alt_response(409, description="The aggregator already has a cluster with this name")
    def post(self, data):
        """Create a cluster of members"""
        return clusters.create_cluster(db(), current_actor(), data)


class OverdueOut(Schema):
    loan_id = ma.fields.Function(lambda o: o[0].id)
    installment = ma.fields.Function(lambda o: o[1].number)
    due_date = ma.fields.Function(lambda o: o[1].due_date.isoformat())
    days_past_due = ma.fields.Function(lambda o: o[1].days_past_due)
    owed = ma.fields.Function(lambda o: o[1].owed, metadata={"description": "rupiah still to pay"})


class ExposureSchema(Schema):
    cluster_id = ma.fields.Function(lambda e: e.cluster.id)
    name = ma.fields.Function(lambda e: e.cluster.name)
    house_id = ma.fields.Function(lambda e: e.cluster.house_id, allow_none=True)
    loan_ids = ma.fields.Function(lambda e: [v.application.id for v in e.loans])
    exposure = ma.fields.Integer(
        metadata={"description": "rupiah paid out and not yet paid back (principal outstanding)"}
    )
    overdue_amount = ma.fields.Integer(
        metadata={"description": "rupiah of the installments past due and unpaid"}
    )
    overdue = ma.fields.List(ma.fields.Nested(OverdueOut))


ExposurePage = page_schema(ExposureSchema, "ClusterExposurePage")


@blp.route("/exposure")
class ClusterExposures(MethodView):
    @allow(Role.admin, Role.aggregator)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ExposurePage)
    def get(self, args):
        """What each of my clusters owes today: its loans, the principal outstanding and the
        installments overdue (the aggregator's clusters page)"""
        _filters, paging = strip_page(args)
        return paginate_list(loans.cluster_exposures(db(), current_actor()), paging)


@blp.route("/<int:cluster_id>")
class ClusterById(MethodView):
    @allow()
    @blp.response(200, ClusterSchema)
    def get(self, cluster_id):
        """One cluster with its members"""
        return clusters.get_cluster(db(), current_actor(), cluster_id)

    @allow(Role.admin, Role.aggregator)
    @blp.arguments(ClusterUpdate)
    @blp.response(200, ClusterSchema)
    @blp.alt_response(409, description="The aggregator already has a cluster with this name")
    def patch(self, data, cluster_id):
        """Change a cluster or its membership"""
        return clusters.update_cluster(db(), current_actor(), cluster_id, data)

    @allow(Role.admin, Role.aggregator)
    @blp.response(204)
    @blp.alt_response(409, description="The cluster still has agreements or loans")
    def delete(self, cluster_id):
        """Dissolve a cluster (its members stay registered)"""
        clusters.delete_cluster(db(), current_actor(), cluster_id)


@blp.route("/<int:cluster_id>/members/<int:member_id>")
class ClusterMember(MethodView):
    @allow(Role.admin, Role.aggregator, Role.member)
    @blp.response(200, ClusterSchema)
    @blp.alt_response(409, description="The cluster has an open application or a live loan")
    def delete(self, cluster_id, member_id):
        """Take a member out of a cluster (a member leaves; the aggregator removes or un-invites)"""
        return clusters.remove_member(db(), current_actor(), cluster_id, member_id)
