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
finances at most one live application or loan (`LIVE_FINANCING`), only at the cluster's
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
- accounting: installments, repayments, early repayment, payoff, days past due;
- plan: the production plan, its linked requests and bookings, the members' shares;
- queries: the lists of applications and loans, a loan as of a day.
"""

from __future__ import annotations

# The clock of every loan step (core.now reads it here, so that tests fix `loans.utcnow`).
from factoryshare.db import utcnow as utcnow
from factoryshare.services.loans.accounting import (
    Payoff as Payoff,
)
from factoryshare.services.loans.accounting import (
    apply_repayment as apply_repayment,
)
from factoryshare.services.loans.accounting import (
    approved_on as approved_on,
)
from factoryshare.services.loans.accounting import (
    first_tranche_on as first_tranche_on,
)
from factoryshare.services.loans.accounting import (
    installment_days_past_due as installment_days_past_due,
)
from factoryshare.services.loans.accounting import (
    installments as installments,
)
from factoryshare.services.loans.accounting import (
    loan_terms as loan_terms,
)
from factoryshare.services.loans.accounting import (
    mark_installments_due as mark_installments_due,
)
from factoryshare.services.loans.accounting import (
    payoff as payoff,
)
from factoryshare.services.loans.accounting import (
    prepay as prepay,
)
from factoryshare.services.loans.accounting import (
    prepayments as prepayments,
)
from factoryshare.services.loans.accounting import (
    record_repayment as record_repayment,
)
from factoryshare.services.loans.accounting import (
    schedule as schedule,
)
from factoryshare.services.loans.applications import (
    create as create,
)
from factoryshare.services.loans.applications import (
    submit as submit,
)
from factoryshare.services.loans.applications import (
    update as update,
)
from factoryshare.services.loans.approvals import (
    approve as approve,
)
from factoryshare.services.loans.approvals import (
    decisions as decisions,
)
from factoryshare.services.loans.approvals import (
    decisions_of as decisions_of,
)
from factoryshare.services.loans.approvals import (
    lender_decision as lender_decision,
)
from factoryshare.services.loans.approvals import (
    reject as reject,
)
from factoryshare.services.loans.approvals import (
    request_changes as request_changes,
)
from factoryshare.services.loans.core import (
    DEFAULT_ZONE as DEFAULT_ZONE,
)
from factoryshare.services.loans.core import (
    LOAN_STATUSES as LOAN_STATUSES,
)
from factoryshare.services.loans.core import (
    disbursed_total as disbursed_total,
)
from factoryshare.services.loans.core import (
    get as get,
)
from factoryshare.services.loans.core import (
    lock as lock,
)
from factoryshare.services.loans.core import (
    today as today,
)
from factoryshare.services.loans.disbursement import (
    add_tranche as add_tranche,
)
from factoryshare.services.loans.disbursement import (
    disburse as disburse,
)
from factoryshare.services.loans.disbursement import (
    tranches as tranches,
)
from factoryshare.services.loans.plan import (
    ENDED_FINANCING as ENDED_FINANCING,
)
from factoryshare.services.loans.plan import (
    MAX_PLAN_ITEMS as MAX_PLAN_ITEMS,
)
from factoryshare.services.loans.plan import (
    PLAN_BOOKING_STATUSES as PLAN_BOOKING_STATUSES,
)
from factoryshare.services.loans.plan import (
    PLAN_REQUEST_STATUSES as PLAN_REQUEST_STATUSES,
)
from factoryshare.services.loans.plan import (
    cost_estimate as cost_estimate,
)
from factoryshare.services.loans.plan import (
    plan_links as plan_links,
)
from factoryshare.services.loans.plan import (
    plan_problems as plan_problems,
)
from factoryshare.services.loans.plan import (
    set_plan as set_plan,
)
from factoryshare.services.loans.plan import (
    shares as shares,
)
from factoryshare.services.loans.queries import (
    InstallmentView as InstallmentView,
)
from factoryshare.services.loans.queries import (
    LoanView as LoanView,
)
from factoryshare.services.loans.queries import (
    get_loan as get_loan,
)
from factoryshare.services.loans.queries import (
    list_applications as list_applications,
)
from factoryshare.services.loans.queries import (
    list_loans as list_loans,
)
from factoryshare.services.loans.queries import (
    page_of_loans as page_of_loans,
)
