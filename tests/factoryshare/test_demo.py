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


def test_each_demo_house_has_ten_to_fifteen_machines_and_loading_twice_adds_none(db: Session) -> None:
    from factoryshare.models import Machine

    load_demo(db)
    load_demo(db)
    for house in db.scalars(select(ProductionHouse)):
        count = db.scalar(select(func.count()).select_from(Machine).where(Machine.house_id == house.id))
        assert 10 <= count <= 15
