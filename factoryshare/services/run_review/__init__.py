"""What a manager reads to judge a plan: a schedule run request by request, a house's
utilisation over a week, and where a production request was placed (or why not).

The package by area (callers import from the package, which re-exports every public name):
- common: why a plan left a request out in words, rupiah for working minutes, a moment in the
  house's zone, and the rule that only a house's managers and admins read its review;
- review: a run request by request (planned times, lateness, machine cost, why not), its
  on-time share, what publishing it would do now, and the horizon of a run over local days;
- suggestions: what would place a request a run left out, by the kind of reason;
- placement: where a production request was placed, or why the latest plan left it out;
- utilisation: per machine of a house, open and booked minutes over a week and their share.
"""

from __future__ import annotations

from factoryshare.services.run_review.common import (
    house_time,
    rupiah_for,
    why_words,
)
from factoryshare.services.run_review.placement import get_request_placed, placement
from factoryshare.services.run_review.review import (
    get_run_reviewed,
    left_out_of,
    on_time_share,
    plan_horizon,
    publish_effects,
    review_requests,
    review_run,
    solved_on_time_share,
)
from factoryshare.services.run_review.suggestions import suggestions
from factoryshare.services.run_review.utilisation import (
    BOOKED_STATUSES,
    BUSY_SHARE,
    parse_week,
    utilisation_between,
    week_utilisation,
)

__all__ = [
    "BOOKED_STATUSES",
    "BUSY_SHARE",
    "get_request_placed",
    "get_run_reviewed",
    "house_time",
    "left_out_of",
    "on_time_share",
    "parse_week",
    "placement",
    "plan_horizon",
    "publish_effects",
    "review_requests",
    "review_run",
    "rupiah_for",
    "solved_on_time_share",
    "suggestions",
    "utilisation_between",
    "week_utilisation",
    "why_words",
]
