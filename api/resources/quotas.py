"""Weekly booking quotas per member per capability, set by the house's managers."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate

from api.database import db
from api.schemas import Schema, Text
from api.security import allow, current_actor
from factoryshare.models import Role
from factoryshare.services import bookings

URL_PREFIX = "/houses"
blp = Blueprint("quotas", __name__, description="Weekly booking quotas of a house")


class QuotaIn(Schema):
    capability = Text(50, min_length=1, required=True)
    hours_per_week = ma.fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=168)
    )


class QuotasIn(Schema):
    quotas = ma.fields.List(
        ma.fields.Nested(QuotaIn), required=True, validate=validate.Length(max=100)
    )


class QuotaOut(Schema):
    capability = ma.fields.Function(lambda q: q.capability.code)
    hours_per_week = ma.fields.Integer()


class QuotasOut(Schema):
    quotas = ma.fields.List(ma.fields.Nested(QuotaOut))


@blp.route("/<int:house_id>/quotas")
class Quotas(MethodView):
    @allow()
    @blp.response(200, QuotasOut)
    def get(self, house_id):
        """Each member's weekly hours cap per capability at this house"""
        return {"quotas": bookings.house_quotas(db(), current_actor(), house_id)}

    @allow(Role.admin, Role.manager)
    @blp.arguments(QuotasIn)
    @blp.response(200, QuotasOut)
    def put(self, data, house_id):
        """Replace the house's quotas (an empty list removes them)"""
        return {"quotas": bookings.replace_quotas(db(), current_actor(), house_id, data["quotas"])}
