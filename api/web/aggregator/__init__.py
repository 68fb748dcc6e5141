"""An aggregator's pages: the loan applications to decide (each with its production plan on a
timeline drawn as inline SVG, the cost per member, the capacity check and permit flags, the
decisions taken so far and the approve / reject / ask-for-changes forms), the clusters with
their exposure, loans and overdue installments, each loan with its schedule and
collectability, and the offtake agreements with their purchases. Every rule lives in the
services called here (loans, loan_review, financing_capacity, offtake); these modules only lay
them out. The words shared with the lender's pages (statuses, decisions, collectability) are in
`common`.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from api.web import add_nav
from factoryshare.models import Role

add_nav("web.aggregator_applications", _l("Loan applications"), roles={Role.aggregator})
add_nav("web.aggregator_clusters", _l("Clusters"), roles={Role.aggregator})
add_nav("web.aggregator_offtake", _l("Offtake"), roles={Role.aggregator})

# The pages register their routes on the web blueprint when imported.
from api.web.aggregator import applications, clusters, offtake  # noqa: E402,F401
