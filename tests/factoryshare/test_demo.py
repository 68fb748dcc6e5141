from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factoryshare.models import ProductionHouse
from fixtures.demo import load_demo


def test_the_demo_has_two_houses_in_their_own_time_zones(db: Session) -> None:
    load_demo(db)
    zones = {h.name: h.timezone for h in db.scalars(select(ProductionHouse))}
    assert zones["Rumah Produksi Bersama Kulit Sukaregang"] == "Asia/Jakarta"
    assert zones["Rumah Produksi Bersama Pangan dan Kakao Jembrana"] == "Asia/Makassar"


def test_loading_the_demo_twice_does_not_duplicate_houses(db: Session) -> None:
    first = load_demo(db)
    before = db.scalar(select(func.count()).select_from(ProductionHouse))
    second = load_demo(db)
    assert db.scalar(select(func.count()).select_from(ProductionHouse)) == before
    assert second.created.get("houses", 0) == 0
    assert second.existing["houses"] == first.created["houses"] + first.existing.get("houses", 0)


def test_each_demo_house_has_ten_to_fifteen_machines_and_loading_twice_adds_none(
    db: Session,
) -> None:
    from factoryshare.models import Machine

    load_demo(db)
    load_demo(db)
    for house in db.scalars(select(ProductionHouse)):
        count = db.scalar(
            select(func.count()).select_from(Machine).where(Machine.house_id == house.id)
        )
        assert 10 <= count <= 15


def test_the_demo_has_about_thirty_members_whose_nib_and_nik_are_valid(db: Session) -> None:
    from factoryshare import validation
    from factoryshare.models import Member, Sector

    load_demo(db)
    members = list(db.scalars(select(Member)))
    assert 25 <= len(members) <= 35
    for member in members:
        assert validation.nik(member.owner_nik) == member.owner_nik
        assert validation.nib(member.nib) == member.nib
        assert member.phone.startswith("+62")
    assert {m.sector for m in members} >= {Sector.fashion, Sector.culinary, Sector.craft}


def test_every_demo_product_has_a_routing_on_capabilities_its_house_has(db: Session) -> None:
    from factoryshare.models import Machine, Member, Product

    load_demo(db)
    products = list(db.scalars(select(Product)))
    assert len(products) >= 25
    for product in products:
        house_id = db.get(Member, product.member_id).house_id
        available = {
            c.id
            for m in db.scalars(select(Machine).where(Machine.house_id == house_id))
            for c in m.capabilities
        }
        assert product.routing
        assert {step.capability_id for step in product.routing} <= available


def test_the_demo_aggregator_has_two_clusters_each_chaired_by_one_of_its_members(
    db: Session,
) -> None:
    from factoryshare.models import Aggregator

    load_demo(db)
    (aggregator,) = db.scalars(select(Aggregator)).all()
    assert len(aggregator.clusters) == 2
    for cluster in aggregator.clusters:
        assert cluster.chair_member_id in {m.id for m in cluster.members}
        assert cluster.house_id is not None


def test_every_demo_account_can_sign_in_and_loading_twice_adds_no_user(db: Session) -> None:
    from factoryshare.models import User
    from factoryshare.services import accounts
    from fixtures.demo import DEMO_ACCOUNTS

    load_demo(db)
    load_demo(db)
    assert db.scalar(select(func.count()).select_from(User)) == len(DEMO_ACCOUNTS)
    assert {role for role, *_ in DEMO_ACCOUNTS} == {
        "admin",
        "manager",
        "member",
        "aggregator",
        "lender",
    }
    for role, email, password, _ in DEMO_ACCOUNTS:
        issued = accounts.sign_in(
            db, email, password, ttl_minutes=5, max_failures=5, lock_minutes=15
        )
        assert issued.user.role.value == role
