"""Machines of the production houses, their capabilities, rates and status."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import Id, PageArgs, Rupiah, Schema, Text, page_schema, paginate, strip_page
from api.security import allow, current_actor
from factoryshare.db import MAX_ID
from factoryshare.models import MachineStatus, Role
from factoryshare.services import machines

URL_PREFIX = "/machines"
blp = Blueprint("machines", __name__, description="Machines, their capabilities and hourly rates")

STATUSES = [s.value for s in MachineStatus]


def _codes(**kwargs):  # type: ignore[no-untyped-def]
    return ma.fields.List(
        Text(50, min_length=1),
        validate=validate.Length(min=1, max=30),
        metadata={"description": "capability codes"},
        **kwargs,
    )


class MachineArgs(PageArgs):
    house_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    capability = Text(50, min_length=1)
    status = ma.fields.String(validate=validate.OneOf(STATUSES))
    q = Text(120, min_length=1, metadata={"description": "part of the code or name"})


class MachineUpdate(Schema):
    code = Text(40, min_length=1)
    name = Text(120, min_length=1)
    hourly_rate = Rupiah(metadata={"description": "integer rupiah per hour"})
    status = ma.fields.String(validate=validate.OneOf(STATUSES))
    description = Text(4000)
    capabilities = _codes()


class MachineCreate(MachineUpdate):
    house_id = Id(required=True)
    code = Text(40, min_length=1, required=True)
    name = Text(120, min_length=1, required=True)
    hourly_rate = Rupiah(required=True)
    capabilities = _codes(required=True)


class MachineSchema(Schema):
    id = Id(dump_only=True)
    house_id = Id(dump_only=True)
    code = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)
    hourly_rate = ma.fields.Integer(dump_only=True)
    status = ma.fields.Function(lambda m: m.status.value, dump_only=True)
    description = ma.fields.String(dump_only=True)
    capabilities = ma.fields.Function(lambda m: [c.code for c in m.capabilities], dump_only=True)
    created_at = ma.fields.AwareDateTime(format="iso", dump_only=True)


MachinePage = page_schema(MachineSchema, "MachinePage")


@blp.route("")
class Machines(MethodView):
    @allow()
    @blp.arguments(MachineArgs, location="query")
    @blp.response(200, MachinePage)
    def get(self, args):
        """Machines, filterable by house, capability and status"""
        filters, paging = strip_page(args)
        return paginate(db(), machines.list_machines(db(), current_actor(), **filters), paging)

    @allow(Role.admin, Role.manager)
    @blp.arguments(MachineCreate)
    @blp.response(201, MachineSchema)
    @blp.alt_response(409, description="The house already has a machine with this code")
    def post(self, data):
        """Add a machine to a house (its managers or an admin)"""
        return machines.create_machine(db(), current_actor(), data)


@blp.route("/<int:machine_id>")
class MachineById(MethodView):
    @allow()
    @blp.response(200, MachineSchema)
    def get(self, machine_id):
        """One machine"""
        return machines.get_machine(db(), current_actor(), machine_id)

    @allow(Role.admin, Role.manager)
    @blp.arguments(MachineUpdate)
    @blp.response(200, MachineSchema)
    @blp.alt_response(409, description="Code taken, or future bookings block leaving service")
    def patch(self, data, machine_id):
        """Change a machine; a new rate applies to new bookings only"""
        return machines.update_machine(db(), current_actor(), machine_id, data)

    @allow(Role.admin, Role.manager)
    @blp.response(204)
    @blp.alt_response(409, description="The machine has bookings on record; retire it instead")
    def delete(self, machine_id):
        """Remove a machine that was never booked"""
        machines.delete_machine(db(), current_actor(), machine_id)
