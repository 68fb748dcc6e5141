"""Factories for KUR Klaster financing: offtake agreements and loans taken through the workflow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from factoryshare.access import Actor
from factoryshare.models import Role
from factoryshare.models.financing import LoanApplication, LoanStatus, OfftakeAgreement
from factoryshare.services import loans, offtake

ADMIN = Actor(user_id=None, role=Role.admin)


@pytest.fixture()
def make_offtake_agreement(db: Session, make_cluster, make_member, make_product):  # type: ignore[no-untyped-def]
    def make(*, cluster=None, product=None, quantity: int = 100, unit_price: int = 50_000,  # type: ignore[no-untyped-def]
             deliveries: list[tuple[dt.date, int]] | None = None) -> OfftakeAgreement:
        if cluster is None:
            member = make_member()
            cluster = make_cluster(members=[member], chair_member_id=member.id)
        product = product or make_product(member=cluster.members[0])
        deliveries = deliveries or [(dt.date(2030, 3, 29), quantity)]
        return offtake.create_agreement(db, ADMIN, {
            "cluster_id": cluster.id, "product_id": product.id, "quantity": quantity,
            "unit_price": unit_price,
            "deliveries": [{"due_on": d, "quantity": q} for d, q in deliveries]})

    return make


@pytest.fixture()
def make_loan(db: Session) -> Callable[..., LoanApplication]:
    """A cluster's application taken up to `until` (approved, lender_approved or disbursing)."""

    def make(cluster, *, amount: int = 50_000_000, tenor_months: int = 12,  # type: ignore[no-untyped-def]
             until: str = "disbursing", on: dt.date = dt.date(2030, 1, 15),
             first_tranche: int | None = None, **extra: Any) -> LoanApplication:
        app = loans.create(db, ADMIN, cluster_id=cluster.id, requested_amount=amount,
                           tenor_months=tenor_months, on=on, **extra)
        loans.submit(db, ADMIN, app.id)
        loans.approve(db, ADMIN, app.id)
        if until == LoanStatus.approved.value:
            return app
        loans.lender_decision(db, ADMIN, app.id, True)
        if until == LoanStatus.lender_approved.value:
            return app
        loans.disburse(db, ADMIN, app.id, on=on, amount=first_tranche)
        return app

    return make
