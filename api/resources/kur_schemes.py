"""KUR schemes in force: the dated rules a loan application is checked against."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from api.database import db
from api.schemas import PageArgs, Schema, page_schema, paginate, strip_page
from api.security import allow, current_actor
from factoryshare.services import kur

URL_PREFIX = "/kur-schemes"
blp = Blueprint("kur_schemes", __name__, description="KUR schemes (dated reference data)")


class SchemeQuery(PageArgs):
    on = ma.fields.Date(load_default=None)


class SchemeSchema(Schema):
    id = ma.fields.Integer()
    code = ma.fields.Function(lambda s: s.code.value)
    name = ma.fields.String()
    valid_from = ma.fields.Date()
    valid_to = ma.fields.Date(allow_none=True)
    min_amount = ma.fields.Integer()
    ceiling = ma.fields.Integer()
    annual_rate_bps = ma.fields.Integer()
    max_tenor_working_capital_months = ma.fields.Integer()
    max_tenor_investment_months = ma.fields.Integer()
    turnover_cap = ma.fields.Integer()
    npwp_required_above = ma.fields.Integer(allow_none=True)


SchemePage = page_schema(SchemeSchema, "SchemePage")


@blp.route("")
class Schemes(MethodView):
    @allow()
    @blp.arguments(SchemeQuery, location="query")
    @blp.response(200, SchemePage)
    def get(self, args):
        """List KUR schemes, or only those in force on a date (`on`), a page at a time, by code,
        then first day in force"""
        filters, paging = strip_page(args)
        return paginate(db(), kur.list_schemes(db(), current_actor(), on=filters["on"]), paging)
