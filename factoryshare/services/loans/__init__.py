"""KUR Klaster loan applications: guarded, audited workflow.

draft -> submitted (the aggregator or the cluster's chair submits; checked against the scheme)
submitted -> approved | rejected | changes_requested (the cluster's aggregator endorses;
    above the aggregator's approval limit two different people must approve)
changes_requested -> submitted
approved -> lender_approved | lender_declined (the lender the application is put to decides,
    through one of its officers, with its reference, amount, rate and term)
lender_approved -> disbursing (the lender; each tranche too)

Each step is a decision on record (`loan_decisions`: who, in which role, when, note, terms);
the applicant's notes stay as the applicant wrote them. A production request or a booking
finances at most one application or loan that has not ended (`ENDED_FINANCING`), only at the cluster's
house and only of members who accepted the cluster; every rule a plan breaks is named at once.

Every step loads the application with its row locked and its status read after the lock
(factoryshare/locking.py): of two decisions at once (an approval and a rejection) one wins and
the other answers 409 `invalid_transition` naming the status the first one left.

The package, by area (callers keep writing `loans.x`; every public name is re-exported here):

- core: the scope, the clock, the locked read, the audited status move, the decision on
  record, what makes an application a loan (shared by the modules below);
- applications: create, update, submit;
- approvals: the aggregator's endorsement, rejection and send-back, the lender's decision;
- disbursement: disbursing and its tranches;
- accounting: installments, repayments, the schedule rebuilt, payoff, days past due;
- prepayment: early repayment, in part or in full;
- plan: the production plan, its linked requests and bookings, the members' shares;
- queries: the lists of applications and loans, a loan as of a day.
"""

from __future__ import annotations

from factoryshare.services.loans.accounting import (
    Payoff,
    apply_repayment,
    approved_on,
    first_tranche_on,
    installment_days_past_due,
    installments,
    loan_terms,
    mark_installments_due,
    record_repayment,
    schedule,
)
from factoryshare.services.loans.applications import create, submit, update
from factoryshare.services.loans.approvals import (
    approve,
    decisions,
    decisions_of,
    lender_decision,
    reject,
    request_changes,
)
from factoryshare.services.loans.core import (
    DEFAULT_ZONE,
    LOAN_STATUSES,
    disbursed_total,
    get,
    lock,
    today,
)
from factoryshare.services.loans.disbursement import add_tranche, disburse, pay_out, tranches
from factoryshare.services.loans.plan import (
    ENDED_FINANCING,
    MAX_PLAN_ITEMS,
    PLAN_BOOKING_STATUSES,
    PLAN_REQUEST_STATUSES,
    cost_estimate,
    plan_links,
    plan_problems,
    set_plan,
    shares,
)
from factoryshare.services.loans.prepayment import payoff, prepay, prepayments
from factoryshare.services.loans.queries import (
    ClusterExposure,
    InstallmentView,
    LoanView,
    cluster_exposures,
    get_loan,
    list_applications,
    list_loans,
    page_of_loans,
)

__all__ = [
    "DEFAULT_ZONE",
    "LOAN_STATUSES",
    "disbursed_total",
    "get",
    "lock",
    "today",
    "create",
    "submit",
    "update",
    "approve",
    "decisions",
    "decisions_of",
    "lender_decision",
    "reject",
    "request_changes",
    "add_tranche",
    "disburse",
    "pay_out",
    "tranches",
    "apply_repayment",
    "approved_on",
    "first_tranche_on",
    "installment_days_past_due",
    "installments",
    "loan_terms",
    "mark_installments_due",
    "Payoff",
    "record_repayment",
    "schedule",
    "payoff",
    "prepay",
    "prepayments",
    "ENDED_FINANCING",
    "MAX_PLAN_ITEMS",
    "PLAN_BOOKING_STATUSES",
    "PLAN_REQUEST_STATUSES",
    "cost_estimate",
    "plan_links",
    "plan_problems",
    "set_plan",
    "shares",
    "ClusterExposure",
    "cluster_exposures",
    "get_loan",
    "InstallmentView",
    "list_applications",
    "list_loans",
    "LoanView",
    "page_of_loans",
]
