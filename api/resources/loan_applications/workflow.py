"""The workflow's action endpoints (POST /loan-applications/<id>/<action>): submit,
endorse, reject, send back for changes, the lender's credit decision, disburse. Each answers
the application as it now stands, or 409 when its state does not allow the action."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from api.database import db
from api.resources.loan_applications import blp
from api.resources.loan_applications.applications import TENOR, ApplicationSchema
from api.schemas import Id, Rupiah, Schema, Text
from api.security import allow, current_actor
from factoryshare.models import Role
from factoryshare.services import loans


class Approval(Schema):
    approved_amount = Rupiah(load_default=None, allow_none=True)


class Reason(Schema):
    reason = Text(1000, load_default="")


class SubmitIn(Schema):
    lender_id = Id(
        load_default=None,
        allow_none=True,
        metadata={"description": "put the application to this lender"},
    )


class LenderDecision(Schema):
    approved = ma.fields.Boolean(required=True)
    reference = Text(
        60,
        min_length=1,
        required=True,
        metadata={"description": "the lender's reference number of the decision"},
    )
    approved_amount = Rupiah(
        load_default=None,
        allow_none=True,
        metadata={"description": "at most the endorsed amount (default)"},
    )
    rate_percent = ma.fields.Decimal(
        load_default=None,
        allow_none=True,
        as_string=False,
        validate=ma.validate.Range(min=0, max=100),
        # numbers in the OpenAPI document: apispec would write the
        # Decimal field's bounds as strings
        metadata={
            "description": "yearly rate (default: the scheme's)",
            "minimum": 0,
            "maximum": 100,
        },
    )
    tenor_months = ma.fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=TENOR
    )
    note = Text(1000, load_default="")


def _action(path, roles, schema, doc, call):
    @blp.route(f"/<int:application_id>/{path}", endpoint=f"action_{path.replace('-', '_')}")
    class Action(MethodView):
        @allow(*roles)
        @blp.arguments(schema)
        @blp.response(200, ApplicationSchema)
        @blp.alt_response(409, description="The application is not in a state that allows this")
        def post(self, data, application_id):
            return call(application_id, data)

    Action.post.__doc__ = doc
    Action.__name__ = f"Action_{path}"
    return Action


_action(
    "submit",
    (Role.admin, Role.aggregator, Role.member),
    SubmitIn,
    "Submit to the aggregator",
    lambda i, d: loans.submit(db(), current_actor(), i, lender_id=d["lender_id"]),
)
_action(
    "approve",
    (Role.admin, Role.aggregator),
    Approval,
    "Endorse (two approvers above the limit)",
    lambda i, d: loans.approve(db(), current_actor(), i, d["approved_amount"]),
)
_action(
    "reject",
    (Role.admin, Role.aggregator),
    Reason,
    "Reject",
    lambda i, d: loans.reject(db(), current_actor(), i, d["reason"]),
)
_action(
    "request-changes",
    (Role.admin, Role.aggregator),
    Reason,
    "Send back for changes",
    lambda i, d: loans.request_changes(db(), current_actor(), i, d["reason"]),
)
_action(
    "lender-decision",
    (Role.lender,),
    LenderDecision,
    "Record the lender's credit decision (the lender the application is put to)",
    lambda i, d: loans.lender_decision(db(), current_actor(), i, **d),
)


class DisburseIn(Schema):
    amount = Rupiah(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(min=1, max=10**15),
        metadata={"description": "a first tranche paid out at once"},
    )
    on = ma.fields.Date(load_default=None, allow_none=True)


_action(
    "disburse",
    (Role.lender,),
    DisburseIn,
    "Start disbursing the lender-approved loan",
    lambda i, d: loans.disburse(db(), current_actor(), i, on=d["on"], amount=d["amount"]),
)
