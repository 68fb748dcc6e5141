"""User accounts: admins manage roles and scopes; every user keeps its own profile."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import Id, PageArgs, Schema, Text, page_schema, paginate, strip_page
from api.security import allow, current_actor, request_credential
from factoryshare.db import MAX_ID
from factoryshare.models import Role
from factoryshare.services import accounts, users

URL_PREFIX = "/users"
blp = Blueprint("users", __name__, description="User accounts, roles and scopes")

ROLES = [r.value for r in Role]
LANGUAGES = ["id", "en"]


class UserArgs(PageArgs):
    role = ma.fields.String(validate=validate.OneOf(ROLES))
    house_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    active = ma.fields.Boolean()
    search = Text(120, min_length=1, metadata={"description": "part of the e-mail or name"})


class UserCreate(Schema):
    email = ma.fields.Email(required=True, validate=validate.Length(max=254))
    password = Text(256, min_length=1, required=True, load_only=True)
    role = ma.fields.String(required=True, validate=validate.OneOf(ROLES))
    name = Text(120, min_length=1)
    language = ma.fields.String(validate=validate.OneOf(LANGUAGES))
    house_ids = ma.fields.List(Id(), validate=validate.Length(max=50))
    member_id = Id(allow_none=True)
    aggregator_id = Id(allow_none=True)
    lender_id = Id(allow_none=True, metadata={"description": "a lender user's institution"})


class UserUpdate(Schema):
    name = Text(120, min_length=1)
    language = ma.fields.String(validate=validate.OneOf(LANGUAGES))
    password = Text(256, min_length=1, load_only=True)
    house_ids = ma.fields.List(Id(), validate=validate.Length(max=50))
    is_active = ma.fields.Boolean()
    unlock = ma.fields.Boolean(load_only=True, metadata={"description": "clear a login lock"})


class ProfileUpdate(Schema):
    name = Text(120, min_length=1)
    language = ma.fields.String(validate=validate.OneOf(LANGUAGES))
    password = Text(256, min_length=1, load_only=True)
    current_password = Text(256, min_length=1, load_only=True)


class UserSchema(Schema):
    id = Id(dump_only=True)
    email = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)
    role = ma.fields.Function(lambda u: u.role.value, dump_only=True)
    language = ma.fields.String(dump_only=True)
    is_active = ma.fields.Boolean(dump_only=True)
    house_ids = ma.fields.Function(lambda u: [h.id for h in u.houses], dump_only=True)
    member_id = ma.fields.Integer(dump_only=True, allow_none=True)
    aggregator_id = ma.fields.Integer(dump_only=True, allow_none=True)
    lender_id = ma.fields.Integer(dump_only=True, allow_none=True)
    locked_until = ma.fields.AwareDateTime(format="iso", dump_only=True, allow_none=True)


UserPage = page_schema(UserSchema, "UserPage")


@blp.route("")
class Users(MethodView):
    @allow(Role.admin)
    @blp.arguments(UserArgs, location="query")
    @blp.response(200, UserPage)
    def get(self, args):
        """All user accounts (admin)"""
        filters, paging = strip_page(args)
        return paginate(db(), users.list_users(db(), current_actor(), **filters), paging)

    @allow(Role.admin)
    @blp.arguments(UserCreate)
    @blp.response(201, UserSchema)
    @blp.alt_response(409, description="The e-mail is already in use")
    def post(self, data):
        """Create an account with its role and scope (admin)"""
        return accounts.create_user(db(), current_actor(), **data)


@blp.route("/me")
class Me(MethodView):
    @allow()
    @blp.arguments(ProfileUpdate)
    @blp.response(200, UserSchema)
    def patch(self, data):
        """Change my name, language or password (the current password is required)"""
        return users.update_own_profile(
            db(), current_actor(), data, keep_token=request_credential()
        )


@blp.route("/<int:user_id>")
class UserById(MethodView):
    @allow(Role.admin)
    @blp.response(200, UserSchema)
    def get(self, user_id):
        """One user account (admin)"""
        return users.get_user(db(), current_actor(), user_id)

    @allow(Role.admin)
    @blp.arguments(UserUpdate)
    @blp.response(200, UserSchema)
    def patch(self, data, user_id):
        """Change a user's name, language, password, houses or activity (admin)"""
        return accounts.update_user(db(), current_actor(), user_id, data)
