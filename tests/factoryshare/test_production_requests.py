import datetime as dt

import pytest

from factoryshare.access import Actor
from factoryshare.errors import Conflict, Forbidden, NotFound, ValidationFailed
from factoryshare.models import Role
from factoryshare.models.scheduling import RequestStatus
from factoryshare.services import production_requests as service

START = dt.datetime(2027, 1, 4, 1, 0, tzinfo=dt.UTC)


def _member_actor(member):
    return Actor(user_id=None, role=Role.member, member_id=member.id)


def _data(product, **overrides):
    data = {
        "product_id": product.id,
        "quantity": 20,
        "earliest_start": START,
        "due": START + dt.timedelta(days=3),
        "priority": 2,
    }
    data.update(overrides)
    return data


def test_a_request_expands_the_routing_into_operations_for_the_quantity(db, make_product):
    product = make_product(routing=[("cutting", 10, 2), ("sewing", 15, 5)])
    request = service.create_request(db, _member_actor(product.member), _data(product))
    assert [(o.position, o.capability.code, o.minutes) for o in request.operations] == [
        (1, "cutting", 10 + 2 * 20),
        (2, "sewing", 15 + 5 * 20),
    ]
    assert request.status is RequestStatus.open
    assert request.house_id == product.member.house_id


def test_a_later_routing_change_does_not_alter_a_request_already_made(db, make_product):
    product = make_product(routing=[("sewing", 0, 3)])
    request = service.create_request(db, _member_actor(product.member), _data(product, quantity=4))
    product.routing[0].minutes_per_unit = 100
    db.flush()
    db.expire_all()
    assert (
        service.get_request(db, _member_actor(product.member), request.id).operations[0].minutes
        == 12
    )


def test_a_due_date_before_the_earliest_start_is_refused_naming_due(db, make_product):
    product = make_product()
    with pytest.raises(ValidationFailed) as err:
        service.create_request(db, _member_actor(product.member), _data(product, due=START))
    assert "due" in err.value.errors


def test_a_member_cannot_request_production_of_another_members_product(
    db, make_product, make_member
):
    product = make_product()
    with pytest.raises(NotFound):
        service.create_request(db, _member_actor(make_member()), _data(product))


def test_an_aggregator_sees_its_cluster_members_requests_but_cannot_make_one(
    db, make_production_request, make_cluster, make_product
):
    request = make_production_request()
    make_production_request()
    cluster = make_cluster()
    cluster.members.append(request.product.member)
    db.flush()
    actor = Actor(user_id=None, role=Role.aggregator, aggregator_id=cluster.aggregator_id)
    seen = [r.id for r in db.scalars(service.list_requests(db, actor))]
    assert seen == [request.id]
    with pytest.raises(Forbidden):
        service.create_request(db, actor, _data(make_product()))


def test_a_manager_sees_only_its_houses_requests(db, make_production_request):
    mine = make_production_request()
    make_production_request()
    actor = Actor(user_id=None, role=Role.manager, house_ids=frozenset({mine.house_id}))
    assert [r.id for r in db.scalars(service.list_requests(db, actor))] == [mine.id]


def test_a_cancelled_request_leaves_the_open_queue_and_cannot_be_cancelled_again(
    db, make_production_request
):
    request = make_production_request()
    member = Actor(user_id=None, role=Role.member, member_id=request.member_id)
    assert [r.id for r in service.open_requests(db, request.house_id)] == [request.id]
    service.cancel_request(db, member, request.id)
    assert service.open_requests(db, request.house_id) == []
    with pytest.raises(Conflict):
        service.cancel_request(db, member, request.id)
