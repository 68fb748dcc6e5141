"""The catalogue of machine capabilities that routings and machines refer to by code."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from api.database import db
from api.schemas import Id, PageArgs, Schema, Text, page_schema, paginate, strip_page
from api.security import allow, current_actor
from factoryshare.models import Role
from factoryshare.services import machines

URL_PREFIX = "/capabilities"
blp = Blueprint("capabilities", __name__, description="What machines can do")


class CapabilityArgs(PageArgs):
    q = Text(120, min_length=1, metadata={"description": "part of the code or name"})


class CapabilityUpdate(Schema):
    code = Text(50, min_length=2, metadata={"description": "lower-case, e.g. vacuum_frying"})
    name = Text(120, min_length=1)
    description = Text(4000)
    pausable = ma.fields.Boolean(
        metadata={
            "description": "a step of it may pause while the machine "
            "is closed and go on the next open day"
        }
    )


class CapabilityCreate(CapabilityUpdate):
    code = Text(50, min_length=2, required=True)
    name = Text(120, min_length=1, required=True)


class CapabilitySchema(Schema):
    id = Id(dump_only=True)
    code = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)
    description = ma.fields.String(dump_only=True)
    pausable = ma.fields.Boolean(dump_only=True)


CapabilityPage = page_schema(CapabilitySchema, "CapabilityPage")


@blp.route("")
class Capabilities(MethodView):
    @allow()
    @blp.arguments(CapabilityArgs, location="query")
    @blp.response(200, CapabilityPage)
    def get(self, args):
        """Capabilities"""
        filters, paging = strip_page(args)
        return paginate(db(), machines.list_capabilities(db(), current_actor(), **filters), paging)

    @allow(Role.admin)
    @blp.arguments(CapabilityCreate)
    @blp.response(201, CapabilitySchema)
    @blp.alt_response(409, description="The code is taken")
    def post(self, data):
        """Add a capability"""
        return machines.create_capability(db(), current_actor(), data)


@blp.route("/<int:capability_id>")
class CapabilityById(MethodView):
    @allow()
    @blp.response(200, CapabilitySchema)
    def get(self, capability_id):
        """One capability"""
        return machines.get_capability(db(), current_actor(), capability_id)

    @allow(Role.admin)
    @blp.arguments(CapabilityUpdate)
    @blp.response(200, CapabilitySchema)
    @blp.alt_response(409, description="The code is taken")
    def patch(self, data, capability_id):
        """Rename or re-describe a capability"""
        return machines.update_capability(db(), current_actor(), capability_id, data)

    @allow(Role.admin)
    @blp.response(204)
    @blp.alt_response(409, description="Machines or routings still use it")
    def delete(self, capability_id):
        """Remove an unused capability"""
        machines.delete_capability(db(), current_actor(), capability_id)
