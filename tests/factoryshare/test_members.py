import pytest
from sqlalchemy import select

from factoryshare.access import Actor
from factoryshare.errors import Conflict, Forbidden, NotFound, ValidationFailed
from factoryshare.models import AuditEvent, ProductionHouse, Role
from factoryshare.services import members


def _data(house_id, **overrides):
    data = {
        "house_id": house_id,
        "business_name": "CV Batik Garut",
        "nib": "9120000000001",
        "owner_name": "Ibu Ani",
        "owner_nik": "3205105205850001",
        "sector": "fashion",
        "phone": "0812 3456 7890",
        "email": "ani@example.id",
        "annual_turnover": 250_000_000,
    }
    data.update(overrides)
    return data


def test_a_manager_registers_a_member_with_normalised_numbers_and_an_audit_entry(db, make_user):
    manager = make_user(Role.manager)
    actor = Actor.of(manager)
    member = members.register_member(
        db, actor, _data(manager.houses[0].id, npwp="01.300.066.6-091.000")
    )
    assert member.phone == "+6281234567890"
    assert member.npwp == "013000666091000"
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "member.registered")).all()
    assert [e.object_id for e in events] == [str(member.id)]


def test_a_second_business_with_the_same_nib_is_a_conflict_naming_nib(db, make_user, make_member):
    manager = make_user(Role.manager)
    make_member(nib="9120000000009")
    with pytest.raises(Conflict) as info:
        members.register_member(
            db, Actor.of(manager), _data(manager.houses[0].id, nib="9120000000009")
        )
    assert "nib" in info.value.errors


def test_every_bad_identity_number_is_named_at_once(db, make_user):
    manager = make_user(Role.manager)
    with pytest.raises(ValidationFailed) as info:
        members.register_member(
            db,
            Actor.of(manager),
            _data(manager.houses[0].id, owner_nik="1234", nib="12", npwp="99"),
        )
    assert set(info.value.errors) == {"owner_nik", "nib", "npwp"}


def test_a_manager_cannot_register_a_member_in_another_house(db, make_user, make_house):
    manager = make_user(Role.manager)
    with pytest.raises(Forbidden):
        members.register_member(db, Actor.of(manager), _data(make_house().id))


def test_a_member_user_may_update_its_contact_but_not_its_nib(db, make_user):
    user = make_user(Role.member)
    actor = Actor.of(user)
    updated = members.update_member(db, actor, user.member_id, {"phone": "+62 22 1234567"})
    assert updated.phone == "+62221234567"
    with pytest.raises(Forbidden) as info:
        members.update_member(db, actor, user.member_id, {"nib": "9120000000077"})
    assert "nib" in info.value.errors


def test_a_member_cannot_see_another_member(db, make_user, make_member):
    user = make_user(Role.member)
    other = make_member()
    with pytest.raises(NotFound):
        members.get_member(db, Actor.of(user), other.id)


def test_the_nik_is_masked_for_the_member_itself_but_not_for_its_house_manager(
    db, make_user, make_member
):
    member = make_member(owner_nik="3205101205850001")
    own = make_user(Role.member, member=member)
    assert members.displayed_nik(Actor.of(own), member) == "3205**********01"
    house = db.get(ProductionHouse, member.house_id)
    manager = make_user(Role.manager, houses=[house])
    assert members.displayed_nik(Actor.of(manager), member) == "3205101205850001"
    other_manager = make_user(Role.manager)
    assert members.displayed_nik(Actor.of(other_manager), member) == "3205**********01"


def test_a_manager_lists_only_its_houses_members_filtered_by_sector_and_name(
    db, make_user, make_member
):
    manager = make_user(Role.manager)
    house = manager.houses[0]
    batik = make_member(house_id=house.id, business_name="Batik Sari", sector="fashion")
    make_member(house_id=house.id, business_name="Keripik Sari", sector="culinary")
    make_member(business_name="Batik Lain")
    stmt = members.list_members(db, Actor.of(manager), sector="fashion", search="batik")
    assert [m.id for m in db.scalars(stmt)] == [batik.id]
