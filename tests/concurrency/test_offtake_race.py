"""Purchases recorded at the same moment never deliver more than agreed nor pay an installment twice."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from factoryshare.access import Actor
from factoryshare.errors import ValidationFailed
from factoryshare.models import (
    Aggregator,
    AuditEvent,
    Capability,
    Cluster,
    Member,
    Product,
    ProductionHouse,
    Role,
    RoutingStep,
    Sector,
)
from factoryshare.models.financing import (
    Installment,
    LoanApplication,
    LoanTranche,
    OfftakeAgreement,
    OfftakePurchase,
    Repayment,
)
from factoryshare.services import loans, offtake

ADMIN = Actor(user_id=None, role=Role.admin)
CLIENTS = 8


def test_eight_purchases_of_the_last_units_at_once_record_one_and_pay_the_installment_once(
    engine, is_postgres, make_clock
):
    if not is_postgres:
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, there is no race to lose")
    with Session(engine, expire_on_commit=False) as s:
        house = ProductionHouse(
            name="Race House Offtake", timezone="Asia/Jakarta", opening_hours={}, slot_minutes=30
        )
        cap = Capability(code="race_offtake_sewing", name="race sewing")
        aggregator = Aggregator(name="Koperasi Race Offtake")
        s.add_all([house, cap, aggregator])
        s.flush()
        member = Member(
            house_id=house.id,
            business_name="UD Race Offtake",
            nib="9876500000001",
            owner_name="Race",
            owner_nik="3201000000000001",
            sector=Sector.fashion,
        )
        s.add(member)
        s.flush()
        product = Product(
            member_id=member.id,
            name="Race bag",
            sector=Sector.fashion,
            routing=[
                RoutingStep(position=1, capability_id=cap.id, setup_minutes=0, minutes_per_unit=5)
            ],
        )
        cluster = Cluster(
            aggregator_id=aggregator.id,
            name="Race cluster",
            sector=Sector.fashion,
            house_id=house.id,
            chair_member_id=member.id,
        )
        cluster.members = [member]
        s.add_all([product, cluster])
        s.flush()
        # Money is dated and never in the future: the services read the fixed clock.
        make_clock.set(dt.date(2026, 1, 5))
        agreement = offtake.create_agreement(
            s,
            ADMIN,
            {
                "cluster_id": cluster.id,
                "product_id": product.id,
                "quantity": 10,
                "unit_price": 500_000,
                "deliveries": [{"due_on": dt.date(2026, 3, 1), "quantity": 10}],
            },
        )
        make_clock.set(dt.date(2026, 1, 10))
        app = loans.create(
            s,
            ADMIN,
            cluster_id=cluster.id,
            requested_amount=12_000_000,
            tenor_months=12,
            on=dt.date(2026, 1, 10),
        )
        loans.submit(s, ADMIN, app.id)
        loans.approve(s, ADMIN, app.id)
        loans.lender_decision(s, ADMIN, app.id, True)
        loans.disburse(s, ADMIN, app.id, on=dt.date(2026, 1, 10), amount=12_000_000)
        s.commit()
        make_clock.set(dt.date(2026, 2, 12))  # the purchases, after the first installment fell due
        ids = {
            "house": house.id,
            "cap": cap.id,
            "member": member.id,
            "aggregator": aggregator.id,
            "product": product.id,
            "cluster": cluster.id,
            "agreement": agreement.id,
            "app": app.id,
        }
    barrier = threading.Barrier(CLIENTS)
    outcomes: list[str] = []
    guard = threading.Lock()

    def client() -> None:
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            try:
                offtake.record_purchase(
                    session,
                    ADMIN,
                    ids["agreement"],
                    {"delivered_on": dt.date(2026, 2, 12), "quantity": 10},
                )
                session.commit()
                result = "recorded"
            except ValidationFailed:
                session.rollback()
                result = "refused"
        with guard:
            outcomes.append(result)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(outcomes) == ["recorded"] + ["refused"] * (CLIENTS - 1)
        with Session(engine) as s:
            first = s.scalars(
                select(Installment)
                .where(Installment.loan_application_id == ids["app"])
                .order_by(Installment.number)
            ).first()
            assert first.paid == first.amount
            assert (
                sum(s.scalars(select(Repayment.amount).where(Repayment.installment_id == first.id)))
                == first.amount
            )
    finally:
        with Session(engine) as s:
            inst_ids = select(Installment.id).where(Installment.loan_application_id == ids["app"])
            s.execute(delete(Repayment).where(Repayment.installment_id.in_(inst_ids)))
            s.execute(
                delete(OfftakePurchase).where(OfftakePurchase.agreement_id == ids["agreement"])
            )
            s.execute(delete(Installment).where(Installment.loan_application_id == ids["app"]))
            s.execute(delete(LoanTranche).where(LoanTranche.loan_application_id == ids["app"]))
            s.execute(delete(LoanApplication).where(LoanApplication.id == ids["app"]))
            s.execute(delete(OfftakeAgreement).where(OfftakeAgreement.id == ids["agreement"]))
            s.execute(
                delete(AuditEvent).where(
                    AuditEvent.actor_id.is_(None),
                    AuditEvent.object_type.in_(
                        (
                            "offtake_agreements",
                            "offtake_purchases",
                            "loan_applications",
                            "installments",
                            "loan_tranches",
                        )
                    ),
                )
            )
            s.execute(delete(Cluster).where(Cluster.id == ids["cluster"]))
            s.execute(delete(Product).where(Product.id == ids["product"]))
            s.execute(delete(Member).where(Member.id == ids["member"]))
            s.execute(delete(Aggregator).where(Aggregator.id == ids["aggregator"]))
            s.execute(delete(ProductionHouse).where(ProductionHouse.id == ids["house"]))
            s.execute(delete(Capability).where(Capability.id == ids["cap"]))
            s.commit()
