"""One module per resource; each exposes `URL_PREFIX` and `blp`, a flask-smorest Blueprint.

A module whose resource also hangs under another one (e.g. `/houses/{id}/schedule-runs`)
may add `EXTRA_BLUEPRINTS = [("/houses", house_blp)]`. A resource too large for one module is
a package (loan_applications): its `__init__` defines `URL_PREFIX` and `blp` and then imports
its area modules, which register their routes on `blp` (their import order is their paths'
order in the OpenAPI document).
"""

from __future__ import annotations

from api.errors import Api

# Every resource module, imported by name: a module renamed or missing fails at start instead
# of silently dropping its routes. The list is the order their routes appear in the OpenAPI
# document.
from api.resources import (
    aggregators,
    audit,
    auth,
    availability,
    booking_series,
    bookings,
    calendar_feeds,
    capabilities,
    cluster_invitations,
    clusters,
    downtimes,
    houses,
    job_runs,
    kur_schemes,
    lenders,
    loan_applications,
    loans,
    machines,
    members,
    notifications,
    offtake_agreements,
    permit_requirements,
    permit_types,
    permits,
    production_requests,
    products,
    quotas,
    schedule_runs,
    slot_grid,
    statements,
    users,
    utilisation,
    waitlist,
)

RESOURCE_MODULES = [
    auth,
    houses,
    capabilities,
    machines,
    downtimes,
    users,
    members,
    aggregators,
    lenders,
    clusters,
    cluster_invitations,
    products,
    availability,
    slot_grid,
    quotas,
    bookings,
    waitlist,
    booking_series,
    calendar_feeds,
    statements,
    notifications,
    production_requests,
    schedule_runs,
    utilisation,
    kur_schemes,
    offtake_agreements,
    loan_applications,
    loans,
    job_runs,
    permits,
    permit_types,
    permit_requirements,
    audit,
]


def _declare_error_bodies(api: Api) -> None:
    """Give every 4xx answer an operation declares by description alone (`alt_response(409,
    description=...)`) the one error body, so a generated client can read it."""
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in api.spec._paths.values():  # apispec keeps the paths it will render here
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for status, answer in operation.get("responses", {}).items():
                if (
                    str(status).startswith("4")
                    and isinstance(answer, dict)
                    and "content" not in answer
                    and "$ref" not in answer
                ):
                    answer["content"] = body


def register_all(api: Api) -> None:
    for module in RESOURCE_MODULES:
        api.register_blueprint(module.blp, url_prefix=f"/api/v1{module.URL_PREFIX}")
        for prefix, extra in getattr(module, "EXTRA_BLUEPRINTS", ()):
            api.register_blueprint(extra, url_prefix=f"/api/v1{prefix}")
    _declare_error_bodies(api)
