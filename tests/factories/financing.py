"""Factories for KUR Klaster financing: offtake agreements and loans taken through the workflow.

Money is dated: a tranche cannot predate the lender's approval nor be dated in the future, a
purchase cannot predate its agreement. A loan test asks for `make_clock`, which stands
the product's one clock (tests/clock.py) on TODAY, after every date these tests use; the
factories move the clock to the day they act on while they approve, disburse or make an
agreement, and then back to where the test stood.
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
from tests.clock import FrozenClock

ADMIN = Actor(user_id=None, role=Role.admin)
TODAY = dt.datetime(2027, 6, 30, 3, 0, tzinfo=dt.UTC)


class Clock:
    """The shared frozen clock seen as a loan test uses it: a date means 10:00 WIB that day,
    and `at(day)` stands there for a block and then goes back."""

    def __init__(self, frozen: FrozenClock) -> None:
        self._frozen = frozen

    @property
    def now(self) -> dt.datetime:
        return self._frozen.now()

    def set(self, when: dt.datetime | dt.date) -> None:
        self._frozen.set(when, "10:00")

    @contextlib.contextmanager
    def at(self, when: dt.datetime | dt.date) -> Iterator[None]:
        before = self._frozen.now()
        self.set(when)
        try:
            yield
        finally:
            self._frozen.set(before)


@pytest.fixture()
def make_clock(clock: FrozenClock) -> Clock:
    """The product's one clock stood on TODAY, after every date the loan tests use (named make_
    to be shared with the other factories)."""
    fixed = Clock(clock)
    fixed.set(TODAY)
    return fixed


@pytest.fixture()
def make_offtake_agreement(db: Session, make_cluster, make_member, make_product, clock):  # type: ignore[no-untyped-def]
    loan_clock = Clock(clock)

    def make(
        *,
        cluster=None,
        product=None,
        quantity: int = 100,
        unit_price: int = 50_000,  # type: ignore[no-untyped-def]
        deliveries: list[tuple[dt.date, int]] | None = None,
        made_on: dt.date = dt.date(2026, 1, 1),
    ) -> OfftakeAgreement:
        if cluster is None:
            member = make_member()
            cluster = make_cluster(members=[member], chair_member_id=member.id)
        product = product or make_product(member=cluster.members[0])
        deliveries = deliveries or [(dt.date(2026, 3, 29), quantity)]
        with loan_clock.at(made_on):
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
def make_loan(db: Session, clock: FrozenClock) -> Callable[..., LoanApplication]:
    """A cluster's application taken up to `until` (approved, lender_approved or disbursing)."""

    def make(
        cluster,
        *,
        amount: int = 50_000_000,
        tenor_months: int = 12,  # type: ignore[no-untyped-def]
        until: str = "disbursing",
        on: dt.date = dt.date(2026, 1, 15),
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
        with Clock(clock).at(on):  # approved and disbursed on `on`
            loans.lender_decision(db, ADMIN, app.id, True)
            if until == LoanStatus.lender_approved.value:
                return app
            loans.disburse(db, ADMIN, app.id, on=on, amount=first_tranche)
        return app

    return make
