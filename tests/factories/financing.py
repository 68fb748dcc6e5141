"""Factories for KUR Klaster financing: offtake agreements and loans taken through the workflow.

Money is dated: a tranche cannot predate the lender's approval nor be dated in the future, a
purchase cannot predate its agreement. `make_clock` fixes the loans' and offtake services' clock
(their `utcnow`): by default on 30 Jun 2031, after every date these tests use; the factories
set it back to the day they act on while they approve, disburse or make an agreement.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from factoryshare.access import Actor
from factoryshare.models import Role
from factoryshare.models.financing import LoanApplication, LoanStatus, OfftakeAgreement
from factoryshare.services import loans, offtake

ADMIN = Actor(user_id=None, role=Role.admin)
TODAY = dt.datetime(2031, 6, 30, 3, 0, tzinfo=dt.UTC)


class Clock:
    """The time the loans and offtake services read; `at(day)` sets it for a while."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def set(self, when: dt.datetime | dt.date) -> None:
        if not isinstance(when, dt.datetime):
            when = dt.datetime.combine(when, dt.time(3, 0), tzinfo=dt.UTC)  # 10:00 WIB
        self.now = when

    @contextlib.contextmanager
    def at(self, when: dt.datetime | dt.date) -> Iterator[None]:
        before = self.now
        self.set(when)
        try:
            yield
        finally:
            self.now = before


@pytest.fixture()
def make_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The fixed clock of the loans and offtake services (named make_ to be shared)."""
    fixed = Clock(TODAY)
    for module in (loans, offtake):
        monkeypatch.setattr(module, "utcnow", lambda: fixed.now)
    return fixed


@pytest.fixture()
def make_offtake_agreement(db: Session, make_cluster, make_member, make_product, make_clock):  # type: ignore[no-untyped-def]
    def make(
        *,
        cluster=None,
        product=None,
        quantity: int = 100,
        unit_price: int = 50_000,  # type: ignore[no-untyped-def]
        deliveries: list[tuple[dt.date, int]] | None = None,
        made_on: dt.date = dt.date(2030, 1, 1),
    ) -> OfftakeAgreement:
        if cluster is None:
            member = make_member()
            cluster = make_cluster(members=[member], chair_member_id=member.id)
        product = product or make_product(member=cluster.members[0])
        deliveries = deliveries or [(dt.date(2030, 3, 29), quantity)]
        with make_clock.at(made_on):
            return offtake.create_agreement(
                db,
                ADMIN,
                {
                    "cluster_id": cluster.id,
                    "product_id": product.id,
                    "quantity": quantity,
                    "unit_price": unit_price,
                    "deliveries": [{"due_on": d, "quantity": q} for d, q in deliveries],
                },
            )

    return make


@pytest.fixture()
def make_loan(db: Session, make_clock: Clock) -> Callable[..., LoanApplication]:
    """A cluster's application taken up to `until` (approved, lender_approved or disbursing)."""

    def make(
        cluster,
        *,
        amount: int = 50_000_000,
        tenor_months: int = 12,  # type: ignore[no-untyped-def]
        until: str = "disbursing",
        on: dt.date = dt.date(2030, 1, 15),
        first_tranche: int | None = None,
        **extra: Any,
    ) -> LoanApplication:
        app = loans.create(
            db,
            ADMIN,
            cluster_id=cluster.id,
            requested_amount=amount,
            tenor_months=tenor_months,
            on=on,
            **extra,
        )
        loans.submit(db, ADMIN, app.id)
        loans.approve(db, ADMIN, app.id)
        if until == LoanStatus.approved.value:
            return app
        with make_clock.at(on):  # approved and disbursed on `on`
            loans.lender_decision(db, ADMIN, app.id, True)
            if until == LoanStatus.lender_approved.value:
                return app
            loans.disburse(db, ADMIN, app.id, on=on, amount=first_tranche)
        return app

    return make
