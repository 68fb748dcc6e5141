import datetime as dt

import pytest

from factoryshare import clock as product_clock
from factoryshare.access import Actor
from factoryshare.errors import Conflict, Forbidden, NotFound, ValidationFailed
from factoryshare.models import AuditEvent, Role
from factoryshare.models.financing import LoanStatus
from factoryshare.services import loans

ON = dt.date(2026, 11, 23)


@pytest.fixture()
def setting(make_user, make_aggregator, make_cluster, make_member, make_lender):
    aggregator = make_aggregator(approval_limit=100_000_000)
    bank = make_lender()
    chair, other = make_member(), make_member()
    cluster = make_cluster(aggregator=aggregator, members=[chair, other], chair_member_id=chair.id)
    return {
        "cluster": cluster,
        "endorser": Actor.of(make_user(Role.aggregator, aggregator=aggregator)),
        "second": Actor.of(make_user(Role.aggregator, aggregator=aggregator)),
        "chair": Actor.of(make_user(Role.member, member=chair)),
        "member": Actor.of(make_user(Role.member, member=other)),
        "stranger": Actor.of(make_user(Role.aggregator)),
        "admin": Actor.of(make_user(Role.admin)),
        "lender": Actor.of(make_user(Role.lender, lender=bank)),
        "bank": bank,
    }


def apply(db, s, amount=80_000_000, **kw):
    return loans.create(
        db,
        s["chair"],
        cluster_id=s["cluster"].id,
        requested_amount=amount,
        tenor_months=kw.pop("tenor_months", 36),
        on=ON,
        lender_id=kw.pop("lender_id", s["bank"].id),
        **kw,
    )


def test_a_cluster_loan_walks_from_draft_to_disbursing_with_every_step_audited(db, setting):
    s = setting
    app = apply(db, s)
    assert app.status is LoanStatus.draft
    loans.submit(db, s["chair"], app.id)
    loans.approve(db, s["endorser"], app.id)
    assert app.status is LoanStatus.approved and app.approved_amount == 80_000_000
    loans.lender_decision(db, s["lender"], app.id, approved=True, reference="KUR/2026/0001")
    loans.disburse(db, s["lender"], app.id)

    assert app.status is LoanStatus.disbursing
    actions = [
        e.action
        for e in db.query(AuditEvent).filter_by(object_id=str(app.id)).order_by(AuditEvent.id)
        if e.action.startswith("loan_application.")
    ]
    assert actions == [
        "loan_application.created",
        "loan_application.submitted",
        "loan_application.approved",
        "loan_application.lender_approved",
        "loan_application.disbursement_started",
    ]


def test_above_the_aggregators_limit_two_different_people_must_approve(db, setting):
    s = setting
    app = apply(db, s, amount=300_000_000)
    loans.submit(db, s["chair"], app.id)

    loans.approve(db, s["endorser"], app.id)
    assert app.status is LoanStatus.submitted
    with pytest.raises(Conflict):
        loans.approve(db, s["endorser"], app.id)
    loans.approve(db, s["second"], app.id)
    assert app.status is LoanStatus.approved


def test_an_application_sent_back_can_be_edited_and_resubmitted(db, setting):
    s = setting
    app = apply(db, s)
    loans.submit(db, s["chair"], app.id)
    loans.request_changes(db, s["endorser"], app.id, reason="Lower the amount")
    loans.update(db, s["chair"], app.id, requested_amount=60_000_000)
    loans.submit(db, s["chair"], app.id)

    assert app.status is LoanStatus.submitted
    assert app.requested_amount == 60_000_000


def test_a_workflow_step_out_of_order_is_a_conflict(db, setting):
    s = setting
    app = apply(db, s)
    with pytest.raises(Conflict) as caught:
        loans.approve(db, s["endorser"], app.id)
    assert caught.value.code == "invalid_transition"
    loans.submit(db, s["chair"], app.id)
    with pytest.raises(Conflict):
        loans.disburse(db, s["lender"], app.id)


def test_terms_outside_the_cluster_scheme_are_refused_naming_every_field(db, setting):
    with pytest.raises(ValidationFailed) as caught:
        apply(db, setting, amount=600_000_000, tenor_months=90, grace_months=-1)
    assert set(caught.value.errors) == {"requested_amount", "tenor_months", "grace_months"}


def test_only_the_chair_or_aggregator_may_apply_and_members_cannot_endorse(db, setting):
    s = setting
    with pytest.raises(Forbidden):
        loans.create(
            db,
            s["member"],
            cluster_id=s["cluster"].id,
            requested_amount=1_000_000,
            tenor_months=12,
            on=ON,
        )
    app = apply(db, s)
    loans.submit(db, s["chair"], app.id)
    with pytest.raises(Forbidden):
        loans.approve(db, s["chair"], app.id)


def test_another_aggregators_staff_cannot_see_the_application(db, setting):
    s = setting
    app = apply(db, s)
    with pytest.raises(NotFound):
        loans.get(db, s["stranger"], app.id)
    assert db.scalars(loans.list_applications(db, s["stranger"])).all() == []
    assert [a.id for a in db.scalars(loans.list_applications(db, s["member"]))] == [app.id]


def test_the_schedule_of_an_approved_loan_repays_the_approved_amount_at_six_percent(db, setting):
    s = setting
    app = apply(db, s, amount=50_000_000)
    loans.submit(db, s["chair"], app.id)
    loans.approve(db, s["endorser"], app.id)

    rows = loans.schedule(app)
    assert rows[0].amount == 1_521_097
    assert sum(r.principal for r in rows) == 50_000_000


def _disbursed(db, s, amount=50_000_000):
    app = apply(db, s, amount=amount)
    loans.submit(db, s["chair"], app.id)
    loans.approve(db, s["endorser"], app.id)
    # Approved and paid out in full on 10 Jan 2026 (a fixed clock: a tranche cannot predate the
    # approval nor be dated in the future, and nothing is owed before money is paid out).
    with product_clock.using(lambda: dt.datetime(2026, 1, 10, 3, tzinfo=dt.UTC)):
        loans.lender_decision(db, s["lender"], app.id, approved=True, reference="KUR/2026/0001")
        loans.disburse(db, s["lender"], app.id, on=dt.date(2026, 1, 10), amount=amount)
    return app


def test_disbursing_creates_the_monthly_installments_from_a_month_later(db, setting):
    app = _disbursed(db, setting)

    rows = loans.installments(db, setting["member"], app.id)
    assert len(rows) == 36
    assert rows[0].due_date == dt.date(2026, 2, 10) and rows[0].amount == 1_521_097
    assert sum(r.principal for r in rows) == 50_000_000


def test_the_installments_due_job_marks_late_installments_overdue_once(db, setting, tmp_path):
    from factoryshare.jobs.runner import run_job
    from factoryshare.models.financing import InstallmentStatus

    app = _disbursed(db, setting)
    now = dt.datetime(2026, 4, 20, tzinfo=dt.UTC)

    first = run_job(db, "installments_due", lock_dir=tmp_path, now=now)
    second = run_job(db, "installments_due", lock_dir=tmp_path, now=now)

    rows = loans.installments(db, setting["admin"], app.id)
    assert first.counts == {"newly_overdue": 3} and second.counts == {"newly_overdue": 0}
    assert [r.status for r in rows[:4]] == [InstallmentStatus.overdue] * 3 + [InstallmentStatus.due]
    assert rows[0].days_in_arrears == 69


def test_a_repayment_pays_an_installment_and_overpaying_names_the_amount(db, setting):
    from factoryshare.models.financing import InstallmentStatus

    app = _disbursed(db, setting)
    inst = loans.record_repayment(db, setting["endorser"], app.id, 1, 1_000_000)
    assert inst.status is InstallmentStatus.due and inst.paid == 1_000_000
    inst = loans.record_repayment(db, setting["endorser"], app.id, 1, 521_097)
    assert inst.status is InstallmentStatus.paid
    with pytest.raises(ValidationFailed) as caught:
        loans.record_repayment(db, setting["endorser"], app.id, 2, 2_000_000)
    assert set(caught.value.errors) == {"amount"}
    with pytest.raises(Forbidden):
        loans.record_repayment(db, setting["member"], app.id, 2, 1)


def test_paying_out_starts_disbursing_with_the_first_tranche_and_adds_the_next_ones(db, setting):
    s = setting
    app = apply(db, s, amount=50_000_000)
    loans.submit(db, s["chair"], app.id)
    loans.approve(db, s["endorser"], app.id)
    with product_clock.using(lambda: dt.datetime(2026, 1, 20, 3, tzinfo=dt.UTC)):
        loans.lender_decision(db, s["lender"], app.id, approved=True, reference="KUR/2026/0009")
        first = loans.pay_out(db, s["lender"], app.id, 20_000_000, on=dt.date(2026, 1, 20))
        assert first.status is LoanStatus.disbursing
        last = loans.pay_out(db, s["lender"], app.id, 30_000_000, on=dt.date(2026, 1, 20))
    assert last.status is LoanStatus.repaying  # the approved amount is paid out
    assert [t.amount for t in loans.tranches(db, s["lender"], app.id)] == [20_000_000, 30_000_000]
    with pytest.raises(Forbidden):
        loans.pay_out(db, s["endorser"], app.id, 1_000_000)
