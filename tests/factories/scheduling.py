"""Factories for production requests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from factoryshare.access import Actor
from factoryshare.models import Role
from factoryshare.models.scheduling import ProductionRequest
from factoryshare.services import production_requests


@pytest.fixture()
def make_production_request(db: Session, make_product) -> Callable[..., ProductionRequest]:  # type: ignore[no-untyped-def]
    def make(
        *,
        product=None,
        quantity: int = 10,
        priority: int = 1,  # type: ignore[no-untyped-def]
        earliest_start: dt.datetime | None = None,
        due: dt.datetime | None = None,
        **product_overrides: Any,
    ) -> ProductionRequest:
        product = product or make_product(**product_overrides)
        # Monday 4 January 2027, 08:00 WIB, five weeks after the tests' clock; Tuesday the 5th
        # is Isra Mi'raj, a public holiday the houses are closed on.
        start = earliest_start or dt.datetime(2027, 1, 4, 1, 0, tzinfo=dt.UTC)
        return production_requests.create_request(
            db,
            Actor(user_id=None, role=Role.admin),
            {
                "product_id": product.id,
                "quantity": quantity,
                "priority": priority,
                "earliest_start": start,
                "due": due or start + dt.timedelta(days=5),
            },
        )

    return make
