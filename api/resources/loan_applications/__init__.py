"""KUR Klaster loan applications: create, edit, and the workflow's action endpoints.

One resource (`URL_PREFIX`, one blueprint `blp`, so one tag in the OpenAPI document) whose
endpoints live in a module per area, each registering its routes on `blp` when imported:
`applications` (list, create, edit, schedule preview, decisions), `money` (installments,
repayments, tranches), `workflow` (submit, endorse, reject, send back, the lender's decision,
disburse) and `plan` (the production plan financed, the capacity check, the reviewer's view).
"""

from __future__ import annotations

from flask_smorest import Blueprint

URL_PREFIX = "/loan-applications"
blp = Blueprint("loan_applications", __name__, description="KUR Klaster loan applications")

# The areas register their routes on `blp` when imported; the order is the order of their
# paths in the OpenAPI document.
from api.resources.loan_applications import (  # noqa: E402,F401
    applications,
    money,
    plan,
    workflow,
)
