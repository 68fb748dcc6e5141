"""The request estimate refuses what create_request refuses: one set of checks
(production_requests.check_request) for a request made and a request estimated."""

from __future__ import annotations

import datetime as dt

import pytest

from factoryshare.access import Actor
from factoryshare.errors import ValidationFailed
from factoryshare.models import Role
from factoryshare.services import production_requests, request_estimate

ADMIN = Actor(user_id=None, role=Role.admin)
# Monday 4 January 2027 08:00 WIB to Friday the 8th 17:00 WIB.
START = dt.datetime(2027, 1, 4, 1, 0, tzinfo=dt.UTC)
DUE = dt.datetime(2027, 1, 8, 10, 0, tzinfo=dt.UTC)


def _both(db, **asked):
    """The errors create_request and estimate_request give for the same request."""
    errors = []
    with pytest.raises(ValidationFailed) as made:
        production_requests.create_request(db, ADMIN, dict(asked))
    errors.append(made.value.errors)
    with pytest.raises(ValidationFailed) as estimated:
        request_estimate.estimate_request(db, ADMIN, **asked)
    errors.append(estimated.value.errors)
    return errors


@pytest.mark.parametrize("lot_size", [0, -5, True, 2.5])
def test_a_lot_size_that_is_no_whole_number_of_pieces_is_refused_by_the_estimate_too(
    db, make_product, lot_size
):
    product = make_product(routing=[("sewing", 10, 3)])
    made, estimated = _both(
        db, product_id=product.id, quantity=100, earliest_start=START, due=DUE, lot_size=lot_size
    )
    assert "lot_size" in made and "lot_size" in estimated


def test_a_quantity_that_would_take_a_machine_more_than_a_year_is_refused_by_the_estimate_too(
    db, make_product
):
    product = make_product(routing=[("sewing", 0, 600)])  # ten hours a piece
    made, estimated = _both(
        db, product_id=product.id, quantity=1_000, earliest_start=START, due=DUE
    )
    assert made == estimated and "quantity" in estimated


def test_an_estimate_in_lots_splits_the_quantity_as_the_request_would(db, make_product):
    product = make_product(routing=[("sewing", 10, 3)])
    estimate = request_estimate.estimate_request(
        db, ADMIN, product_id=product.id, quantity=500, earliest_start=START, due=DUE, lot_size=120
    )
    request = production_requests.create_request(
        db,
        ADMIN,
        {
            "product_id": product.id,
            "quantity": 500,
            "earliest_start": START,
            "due": DUE,
            "lot_size": 120,
        },
    )
    assert estimate.lots == [100] * 5
    assert request.lot_size == 120
