"""One module per resource; each exposes `URL_PREFIX` and `blp`, a flask-smorest Blueprint.

A module whose resource also hangs under another one (e.g. `/houses/{id}/schedule-runs`)
may add `EXTRA_BLUEPRINTS = [("/houses", house_blp)]`.
"""

from __future__ import annotations

import importlib
import importlib.util

from api.errors import Api

# Every resource module, in the order their routes appear in the OpenAPI document. A module
# listed here that is not in this build yet is skipped; an import error inside one that is
# present still fails loudly.
RESOURCE_MODULES = [
    "auth",
    "houses",
    "capabilities",
    "machines",
    "downtimes",
    "users",
    "members",
    "aggregators",
    "lenders",
    "clusters",
    "cluster_invitations",
    "products",
    "availability",
    "slot_grid",
    "quotas",
    "bookings",
    "waitlist",
    "booking_series",
    "calendar_feeds",
    "statements",
    "notifications",
    "production_requests",
    "schedule_runs",
    "utilisation",
    "kur_schemes",
    "offtake_agreements",
    "loan_applications",
    "loans",
    "job_runs",
    "permits",
    "audit",
]


def register_all(api: Api) -> None:
    for name in RESOURCE_MODULES:
        qualified = f"api.resources.{name}"
        if importlib.util.find_spec(qualified) is None:
            continue
        module = importlib.import_module(qualified)
        api.register_blueprint(module.blp, url_prefix=f"/api/v1{module.URL_PREFIX}")
        for prefix, extra in getattr(module, "EXTRA_BLUEPRINTS", ()):
            api.register_blueprint(extra, url_prefix=f"/api/v1{prefix}")
