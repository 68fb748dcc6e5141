"""Member businesses: registered by house managers, read within scope, contact kept current."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import Id, PageArgs, Rupiah, Schema, Text, page_schema, paginate, strip_page
from api.security import allow, current_actor
from factoryshare.db import MAX_ID
from factoryshare.models import Role, Sector
from factoryshare.services import members

URL_PREFIX = "/members"
blp = Blueprint("members", __name__, description="Member businesses (UMKM)")

SECTORS = [s.value for s in Sector]


class MemberArgs(PageArgs):
    house_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    sector = ma.fields.String(validate=validate.OneOf(SECTORS))
    search = ma.fields.String(
        validate=validate.Length(min=1, max=160),
        metadata={"description": "part of the business name"},
    )


class MemberUpdate(Schema):
    business_name = Text(160, min_length=1)
    nib = Text(30, min_length=1, metadata={"description": "13 digits from OSS-RBA"})
    owner_name = Text(120, min_length=1)
    owner_nik = Text(30, min_length=1, metadata={"description": "16-digit NIK of the owner"})
    npwp = Text(30, allow_none=True, metadata={"description": "15 or 16 digits"})
    sector = ma.fields.String(validate=validate.OneOf(SECTORS))
    phone = Text(30)
    email = ma.fields.Email(validate=validate.Length(max=254))
    address = Text(300)
    annual_turnover = Rupiah(allow_none=True)


class MemberCreate(MemberUpdate):
    house_id = Id(required=True)
    business_name = Text(160, min_length=1, required=True)
    nib = Text(30, min_length=1, required=True, metadata={"description": "13 digits from OSS-RBA"})
    owner_name = Text(120, min_length=1, required=True)
    owner_nik = Text(
        30, min_length=1, required=True, metadata={"description": "16-digit NIK of the owner"}
    )
    sector = ma.fields.String(required=True, validate=validate.OneOf(SECTORS))


class MemberSchema(Schema):
    id = Id(dump_only=True)
    house_id = Id(dump_only=True)
    business_name = ma.fields.String(dump_only=True)
    nib = ma.fields.String(dump_only=True)
    owner_name = ma.fields.String(dump_only=True)
    owner_nik = ma.fields.Function(
        lambda m: members.displayed_nik(current_actor(), m),
        dump_only=True,
        metadata={"description": "masked except for admins and the house's managers"},
    )
    npwp = ma.fields.String(dump_only=True, allow_none=True)
    sector = ma.fields.Function(lambda m: m.sector.value, dump_only=True)
    phone = ma.fields.String(dump_only=True)
    email = ma.fields.String(dump_only=True)
    address = ma.fields.String(dump_only=True)
    annual_turnover = ma.fields.Integer(dump_only=True, allow_none=True)
    created_at = ma.fields.AwareDateTime(format="iso", dump_only=True)


MemberPage = page_schema(MemberSchema, "MemberPage")


@blp.route("")
class Members(MethodView):
    @allow()
    @blp.arguments(MemberArgs, location="query")
    @blp.response(200, MemberPage)
    def get(self, args):
        """Members in my scope, by business name"""
        filters, paging = strip_page(args)
        stmt = members.list_members(db(), current_actor(), **filters)
        return paginate(db(), stmt, paging)

    @allow(Role.admin, Role.manager)
    @blp.arguments(MemberCreate)
    @blp.response(201, MemberSchema)
    @blp.alt_response(409, description="The NIB is already registered")
    def post(self, data):
        """Register a member business in a house I manage"""
        return members.register_member(db(), current_actor(), data)


@blp.route("/<int:member_id>")
class MemberById(MethodView):
    @allow()
    @blp.response(200, MemberSchema)
    def get(self, member_id):
        """One member business"""
        return members.get_member(db(), current_actor(), member_id)

    @allow(Role.admin, Role.manager, Role.member)
    @blp.arguments(MemberUpdate)
    @blp.response(200, MemberSchema)
    @blp.alt_response(409, description="The NIB is already registered")
    def patch(self, data, member_id):
        """Update a member (a member user: its own contact details only)"""
        return members.update_member(db(), current_actor(), member_id, data)
