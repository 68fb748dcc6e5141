import datetime as dt

import pytest

from factoryshare.access import Actor
from factoryshare.errors import Conflict, Forbidden, NotFound, ValidationFailed
from factoryshare.models import Role
from factoryshare.models.scheduling import RunStatus
from factoryshare.services import scheduling as service

START = dt.datetime(2027, 1, 4, 1, 0, tzinfo=dt.UTC)


def _manager(house):
    return Actor(user_id=None, role=Role.manager, house_ids=frozenset({house.id}))


def _data(**overrides):
    data = {
        "horizon_start": START,
        "horizon_end": START + dt.timedelta(days=7),
        "time_limit_seconds": 2,
    }
    data.update(overrides)
    return data


def test_a_manager_queues_a_run_that_waits_for_a_worker(db, make_house):
    house = make_house()
    run = service.queue_run(db, _manager(house), house.id, _data())
    assert run.status is RunStatus.queued
    assert run.attempts == 0
    assert [r.id for r in db.scalars(service.list_house_runs(db, _manager(house), house.id))] == [
        run.id
    ]


def test_a_horizon_that_ends_before_it_starts_is_refused_naming_horizon_end(db, make_house):
    house = make_house()
    with pytest.raises(ValidationFailed) as err:
        service.queue_run(db, _manager(house), house.id, _data(horizon_end=START))
    assert "horizon_end" in err.value.errors


def test_a_manager_of_another_house_may_not_schedule_it_nor_see_its_runs(db, make_house):
    house, other = make_house(), make_house()
    run = service.queue_run(db, _manager(house), house.id, _data())
    with pytest.raises(Forbidden):
        service.queue_run(db, _manager(other), house.id, _data())
    with pytest.raises(NotFound):
        service.get_run(db, _manager(other), run.id)


def test_members_see_no_schedule_runs(db, make_house, make_member):
    house = make_house()
    service.queue_run(db, _manager(house), house.id, _data())
    member = Actor(user_id=None, role=Role.member, member_id=make_member(house=house).id)
    assert list(db.scalars(service.list_runs(db, member))) == []


def test_a_discarded_run_cannot_be_discarded_again(db, make_house):
    house = make_house()
    run = service.queue_run(db, _manager(house), house.id, _data())
    assert service.discard_run(db, _manager(house), run.id).status is RunStatus.discarded
    with pytest.raises(Conflict):
        service.discard_run(db, _manager(house), run.id)
