"""The demo shows the whole KUR Klaster chain for the Garut cluster."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factoryshare.access import Actor
from factoryshare.models import Cluster
from factoryshare.models.financing import LoanApplication, LoanStatus, OfftakeAgreement
from factoryshare.services import loans
from fixtures.demo import load_demo


def test_the_demo_cluster_has_a_disbursed_loan_with_linked_bookings_and_installments(
    db: Session,
) -> None:
    load_demo(db)
    cluster = db.scalar(select(Cluster).where(Cluster.name == "Klaster Kulit Sukaregang"))
    app = db.scalar(select(LoanApplication).where(LoanApplication.cluster_id == cluster.id))
    admin = Actor.system()

    assert app.status is LoanStatus.repaying
    assert loans.disbursed_total(db, app) == app.approved_amount == app.requested_amount
    view = loans.get_loan(db, admin, app.id)
    assert len(view.linked_booking_ids) >= 3
    rows = loans.installments(db, admin, app.id)
    assert len(rows) == 12 and sum(r.principal for r in rows) == app.approved_amount
    assert {s.member_id for s in loans.shares(db, admin, app.id)} == {
        m.id for m in cluster.members[:2]
    }


def test_loading_the_demo_twice_makes_two_applications_and_one_agreement(db: Session) -> None:
    load_demo(db)
    second = load_demo(db)
    assert second.created.get("loan_applications", 0) == 0
    assert db.scalar(select(func.count()).select_from(LoanApplication)) == 2
    assert db.scalar(select(func.count()).select_from(OfftakeAgreement)) == 1


def test_the_jembrana_cluster_has_an_application_waiting_for_the_aggregator(db: Session) -> None:
    load_demo(db)
    cluster = db.scalar(select(Cluster).where(Cluster.name == "Klaster Kakao Jembrana"))
    app = db.scalar(select(LoanApplication).where(LoanApplication.cluster_id == cluster.id))
    assert app.status is LoanStatus.submitted
    shares = loans.shares(db, Actor.system(), app.id)
    assert {s.member_id for s in shares} == {m.id for m in cluster.members[:2]}
    # The amount asked is the plan: booked machine hours at their rates plus materials.
    assert app.requested_amount == sum(s.amount for s in shares)
    assert sum(s.material_cost for s in shares) == 27_500_000
