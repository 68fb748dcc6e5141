import pytest
from sqlalchemy import select

from factoryshare.access import Actor
from factoryshare.errors import Conflict, Forbidden, NotFound, ValidationFailed
from factoryshare.models import AuditEvent, ProductionHouse, Role
from factoryshare.services import products


def _data(**overrides):
    data = {
        "name": "Gamis Katun",
        "sector": "fashion",
        "kind": "garment",
        "unit": "pcs",
        "routing": [
            {"capability": "cutting", "setup_minutes": 10, "minutes_per_unit": 3},
            {
                "capability": "sewing",
                "setup_minutes": 15,
                "minutes_per_unit": 20,
                "min_lag_minutes": 5,
            },
        ],
    }
    data.update(overrides)
    return data


@pytest.fixture()
def caps(make_capability):
    return [make_capability(code=c, name=c) for c in ("cutting", "sewing")]


def test_a_member_adds_a_product_with_an_ordered_routing(db, make_user, caps):
    user = make_user(Role.member)
    product = products.create_product(db, Actor.of(user), _data())
    assert product.member_id == user.member_id
    assert [(s.position, s.capability.code, s.min_lag_minutes) for s in product.routing] == [
        (1, "cutting", 0),
        (2, "sewing", 5),
    ]
    assert (
        db.scalar(
            select(AuditEvent.action).where(
                AuditEvent.object_id == str(product.id), AuditEvent.object_type == "products"
            )
        )
        == "product.created"
    )


def test_an_unknown_capability_is_named_by_its_step(db, make_user, caps):
    user = make_user(Role.member)
    routing = _data()["routing"] + [{"capability": "teleporting", "minutes_per_unit": 1}]
    with pytest.raises(ValidationFailed) as info:
        products.create_product(db, Actor.of(user), _data(routing=routing))
    assert list(info.value.errors) == ["routing[2].capability"]


def test_a_product_needs_at_least_one_step_and_positive_run_minutes(db, make_user, caps):
    actor = Actor.of(make_user(Role.member))
    with pytest.raises(ValidationFailed) as info:
        products.create_product(db, actor, _data(routing=[]))
    assert "routing" in info.value.errors
    with pytest.raises(ValidationFailed) as info:
        products.create_product(
            db, actor, _data(routing=[{"capability": "sewing", "minutes_per_unit": 0}])
        )
    assert "routing[0].minutes_per_unit" in info.value.errors


def test_replacing_the_routing_swaps_every_step(db, make_user, caps):
    actor = Actor.of(make_user(Role.member))
    product = products.create_product(db, actor, _data())
    products.replace_routing(
        db, actor, product.id, [{"capability": "sewing", "minutes_per_unit": 7}]
    )
    db.expire_all()
    assert [(s.position, s.capability.code, s.minutes_per_unit) for s in product.routing] == [
        (1, "sewing", 7)
    ]


def test_a_failed_routing_replacement_leaves_the_old_routing(db, make_user, caps):
    actor = Actor.of(make_user(Role.member))
    product = products.create_product(db, actor, _data())
    with pytest.raises(ValidationFailed):
        products.replace_routing(
            db, actor, product.id, [{"capability": "nope", "minutes_per_unit": 7}]
        )
    assert len(product.routing) == 2


def test_the_same_product_name_twice_for_one_member_is_a_conflict(db, make_user, caps):
    actor = Actor.of(make_user(Role.member))
    products.create_product(db, actor, _data())
    with pytest.raises(Conflict) as info:
        products.create_product(db, actor, _data())
    assert "name" in info.value.errors


def test_the_house_manager_manages_its_members_products_but_another_manager_sees_nothing(
    db, make_user, make_member, caps
):
    member = make_member()
    house = db.get(ProductionHouse, member.house_id)
    manager = Actor.of(make_user(Role.manager, houses=[house]))
    product = products.create_product(db, manager, _data(member_id=member.id))
    stranger = Actor.of(make_user(Role.manager))
    with pytest.raises(NotFound):
        products.get_product(db, stranger, product.id)
    assert list(db.scalars(products.list_products(db, stranger))) == []


def test_an_aggregator_reads_its_cluster_members_products_but_cannot_change_them(
    db, make_user, make_member, make_cluster, make_product
):
    member = make_member()
    product = make_product(member=member)
    user = make_user(Role.aggregator)
    make_cluster(aggregator_id=user.aggregator_id, members=[member])
    actor = Actor.of(user)
    assert products.get_product(db, actor, product.id).id == product.id
    with pytest.raises(Forbidden):
        products.update_product(db, actor, product.id, {"name": "Baru"})
