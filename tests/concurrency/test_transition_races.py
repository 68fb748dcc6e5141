"""Conflicting state changes at the same moment end with one winner and a clean 409 for the
other; a transaction that loses to a deadlock or a serialisation failure is run again.

The races run on PostgreSQL with real threads through the HTTP API, each request its own
committed transaction (as under gunicorn), on data committed for real and removed afterwards.
The retry tests inject the database's error and run on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import secrets
from typing import Any

import pytest
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from factoryshare import audit
from factoryshare import clock as product_clock
from factoryshare.access import Actor
from factoryshare.models import (
    Aggregator,
    ApiToken,
    AuditEvent,
    Capability,
    Cluster,
    Machine,
    Member,
    Product,
    ProductionHouse,
    Role,
    RoutingStep,
    Sector,
    User,
)
from factoryshare.models.bookings import Booking
from factoryshare.models.financing import LoanApplication
from factoryshare.models.scheduling import RunStatus, ScheduleAssignment, ScheduleRun
from factoryshare.services import bookings, loans, production_requests
from tests.concurrency.test_double_booking import _all_at_once
from tests.factories.bookings import at, working_day

ADMIN = Actor(user_id=None, role=Role.admin)
HOURS = {d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
# Races run side by side, each on its own object, so that the losing interleavings show up.
ROUNDS = 4
NEEDS_POSTGRES = "needs PostgreSQL: SQLite serialises every writer, there is no race to lose"
_tags = itertools.count(1)
_BASE = secrets.randbelow(10**6)  # keeps NIB and NIK apart from other runs' leftovers


class World:
    """Rows committed for real so that concurrent sessions see them; `remove()` deletes them
    (and the audit events and bookings they led to) again."""

    def __init__(self, engine: Any, password_hash: str) -> None:
        self.engine = engine
        self.password_hash = password_hash
        self.rows: list[tuple[type, int]] = []
        self.machine_ids: list[int] = []
        self.tag = f"tr{next(_tags)}-{secrets.token_hex(3)}"

    def add(self, session: Session, *objects: Any) -> None:
        session.add_all(objects)
        session.flush()
        self.rows += [(type(o), o.id) for o in objects]

    def keep(self, obj: Any) -> None:
        """Remember an object a service created, to remove it afterwards."""
        self.rows.append((type(obj), obj.id))

    def house(self, session: Session, **values: Any) -> tuple[ProductionHouse, Capability, Machine]:
        house = ProductionHouse(
            name=f"Race House {self.tag}",
            timezone="Asia/Jakarta",
            opening_hours=HOURS,
            slot_minutes=30,
            **values,
        )
        cap = Capability(code=f"race_{self.tag}", name=f"race {self.tag}")
        self.add(session, house, cap)
        machine = Machine(
            house_id=house.id,
            code=f"R-{self.tag}",
            name="Race",
            hourly_rate=10_000,
            capabilities=[cap],
        )
        self.add(session, machine)
        self.machine_ids.append(machine.id)
        return house, cap, machine

    def member(self, session: Session, house: ProductionHouse) -> Member:
        n = next(_tags)
        member = Member(
            house_id=house.id,
            business_name=f"UD Race {self.tag} {n}",
            nib=f"97{_BASE:06d}{n:05d}",
            owner_name="Race",
            owner_nik=f"3201{_BASE:06d}{n:06d}",
            sector=Sector.fashion,
        )
        self.add(session, member)
        return member

    def user(self, session: Session, role: Role, **values: Any) -> tuple[User, str]:
        """A signed-in user and its bearer token."""
        houses = values.pop("houses", [])
        user = User(
            email=f"race-{self.tag}-{len(self.rows)}@example.id",
            name="Race",
            password_hash=self.password_hash,
            role=role,
            language="id",
            is_active=True,
            failed_logins=0,
            **values,
        )
        user.houses = houses
        self.add(session, user)
        token = secrets.token_urlsafe(32)
        self.add(
            session,
            ApiToken(
                user_id=user.id,
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                expires_at=product_clock.now() + dt.timedelta(hours=1),
            ),
        )
        return user, token

    def remove(self) -> None:
        with Session(self.engine) as s:
            booking_ids = list(
                s.scalars(select(Booking.id).where(Booking.machine_id.in_(self.machine_ids)))
            )
            objects = [(m.__tablename__, str(i)) for m, i in self.rows]
            objects += [("bookings", str(i)) for i in booking_ids]
            user_ids = [i for m, i in self.rows if m is User]
            s.execute(
                delete(AuditEvent).where(
                    or_(
                        AuditEvent.actor_id.in_(user_ids),
                        *[
                            (AuditEvent.object_type == t) & (AuditEvent.object_id == i)
                            for t, i in objects
                        ],
                    )
                )
            )
            s.execute(
                delete(ScheduleAssignment).where(
                    ScheduleAssignment.run_id.in_([i for m, i in self.rows if m is ScheduleRun])
                )
            )
            s.execute(delete(Booking).where(Booking.id.in_(booking_ids)))
            for model, row_id in reversed(self.rows):
                obj = s.get(model, row_id)
                if obj is not None:
                    s.delete(obj)
                    s.flush()
            s.commit()


@pytest.fixture()
def world(engine, is_postgres, password_hash):  # type: ignore[no-untyped-def]
    if not is_postgres:
        pytest.skip(NEEDS_POSTGRES)
    made = World(engine, password_hash)
    yield made
    made.remove()


@pytest.fixture()
def http(engine, settings):  # type: ignore[no-untyped-def]
    """POST/PATCH through the real app, each request committing for real."""
    from api import create_app

    app = create_app(settings, session_factory=sessionmaker(bind=engine, expire_on_commit=False))

    def call(method: str, path: str, token: str, body: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
        response = app.test_client().open(
            f"/api/v1{path}",
            method=method,
            json=body or {},
            headers={"Authorization": f"Bearer {token}"},
        )
        return response.status_code, (response.get_json() or {}).get("code")

    return call


def _audited(engine: Any, object_type: str, object_id: int) -> list[str]:
    with Session(engine) as s:
        return sorted(
            s.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id)
                )
            )
        )


# --- approve against reject -----------------------------------------------------------------


def test_an_approval_and_a_rejection_at_once_leave_one_decision_and_a_409_for_the_other(
    engine, world, http
):
    with Session(engine, expire_on_commit=False) as s:
        house, _cap, _machine = world.house(s)
        aggregator = Aggregator(name=f"Koperasi {world.tag}", approval_limit=500_000_000)
        world.add(s, aggregator)
        member = world.member(s, house)
        cluster = Cluster(
            aggregator_id=aggregator.id,
            name=f"Klaster {world.tag}",
            sector=Sector.fashion,
            house_id=house.id,
            chair_member_id=member.id,
        )
        cluster.members = [member]
        world.add(s, cluster)
        _, approver = world.user(s, Role.aggregator, aggregator_id=aggregator.id)
        _, rejecter = world.user(s, Role.aggregator, aggregator_id=aggregator.id)
        app_ids = []
        for _ in range(ROUNDS):
            app = loans.create(
                s,
                ADMIN,
                cluster_id=cluster.id,
                requested_amount=20_000_000,
                tenor_months=12,
                on=dt.date(2026, 1, 10),
            )
            loans.submit(s, ADMIN, app.id)
            world.keep(app)
            app_ids.append(app.id)
        s.commit()

    def decide(job: tuple[int, str]) -> tuple[int, str, int, str | None]:
        app_id, decision = job
        token, body = (
            (approver, {}) if decision == "approve" else (rejecter, {"reason": "Tidak layak"})
        )
        return (
            app_id,
            decision,
            *http("POST", f"/loan-applications/{app_id}/{decision}", token, body),
        )

    answers = _all_at_once(decide, [(a, d) for a in app_ids for d in ("approve", "reject")])

    with Session(engine) as s:
        final = {
            a.id: a.status.value
            for a in s.scalars(select(LoanApplication).where(LoanApplication.id.in_(app_ids)))
        }
    for app_id in app_ids:
        mine = sorted(
            (status, decision, code) for a, decision, status, code in answers if a == app_id
        )
        assert [status for status, _, _ in mine] == [200, 409], mine
        (_, winner, _), (_, _, loser_code) = mine
        assert loser_code == "invalid_transition"
        assert final[app_id] == {"approve": "approved", "reject": "rejected"}[winner]
        decisions = [
            a
            for a in _audited(engine, "loan_applications", app_id)
            if a in ("loan_application.approved", "loan_application.rejected")
        ]
        assert decisions == [f"loan_application.{final[app_id]}"]


# --- publish against discard ----------------------------------------------------------------


def test_a_publish_and_a_discard_of_one_run_at_once_leave_one_outcome_and_bookings_only_if_published(
    engine, world, http
):
    day = working_day()
    with Session(engine, expire_on_commit=False) as s:
        house, cap, machine = world.house(s)
        member = world.member(s, house)
        product = Product(
            member_id=member.id,
            name=f"Tas {world.tag}",
            sector=Sector.fashion,
            routing=[
                RoutingStep(position=1, capability_id=cap.id, setup_minutes=0, minutes_per_unit=6)
            ],
        )
        world.add(s, product)
        _, publisher = world.user(s, Role.manager, houses=[house])
        _, discarder = world.user(s, Role.manager, houses=[house])
        run_ids = []
        for i in range(ROUNDS):
            request = production_requests.create_request(
                s,
                ADMIN,
                {
                    "product_id": product.id,
                    "quantity": 10,
                    "earliest_start": at(day, "08:00"),
                    "due": at(day, "17:00"),
                },
            )
            world.keep(request)
            (operation,) = request.operations
            slot = at(day, "09:00") + dt.timedelta(hours=i)
            run = ScheduleRun(
                house_id=house.id,
                horizon_start=at(day, "08:00"),
                horizon_end=at(day, "17:00"),
                time_limit_seconds=1,
                status=RunStatus.succeeded,
                attempts=1,
            )
            run.assignments = [
                ScheduleAssignment(
                    operation_id=operation.id,
                    machine_id=machine.id,
                    start_at=slot,
                    end_at=slot + dt.timedelta(hours=1),
                )
            ]
            world.add(s, run)
            run_ids.append(run.id)
        s.commit()

    def act(job: tuple[int, str]) -> tuple[int, str, int, str | None]:
        run_id, action = job
        token = publisher if action == "publish" else discarder
        return (run_id, action, *http("POST", f"/schedule-runs/{run_id}/{action}", token))

    answers = _all_at_once(act, [(r, a) for r in run_ids for a in ("publish", "discard")])

    with Session(engine) as s:
        runs = {r.id: r for r in s.scalars(select(ScheduleRun).where(ScheduleRun.id.in_(run_ids)))}
        booked = {
            r.id: [a.booking_id for a in r.assignments if a.booking_id] for r in runs.values()
        }
        live = (
            s.scalar(
                select(func.count()).select_from(Booking).where(Booking.machine_id == machine.id)
            )
            or 0
        )
    published = 0
    for run_id in run_ids:
        mine = sorted((status, action, code) for r, action, status, code in answers if r == run_id)
        assert [status for status, _, _ in mine] == [200, 409], mine
        (_, winner, _), (_, _, loser_code) = mine
        assert loser_code == "invalid_transition"
        assert runs[run_id].status.value == {"publish": "published", "discard": "discarded"}[winner]
        assert len(booked[run_id]) == (1 if winner == "publish" else 0)
        published += winner == "publish"
    assert live == published


# --- move, cancel and confirm one booking ---------------------------------------------------

OPERATIONS = ("move", "cancel", "confirm")


def _one_at_a_time(order: tuple[str, ...]) -> tuple[frozenset[tuple[str, int]], str]:
    """The answers and the final status if the three changes came one after another."""
    status, answers = "held", {}
    for op in order:
        allowed = status == "held" if op == "confirm" else status in ("held", "confirmed")
        answers[op] = 200 if allowed else 409
        if allowed and op != "move":
            status = {"cancel": "cancelled", "confirm": "confirmed"}[op]
    return frozenset(answers.items()), status


SERIAL_OUTCOMES = {_one_at_a_time(order) for order in itertools.permutations(OPERATIONS)}


def test_moving_cancelling_and_confirming_one_booking_at_once_end_as_if_one_came_after_another(
    engine, world, http
):
    day = working_day()
    with Session(engine, expire_on_commit=False) as s:
        house, _cap, machine = world.house(s, requires_confirmation=True, hold_minutes=24 * 60)
        _, manager = world.user(s, Role.manager, houses=[house])
        held = []
        for i in range(ROUNDS):
            member = world.member(s, house)
            _, token = world.user(s, Role.member, member_id=member.id)
            start = at(day, "08:00") + dt.timedelta(hours=i)
            booking = bookings.create_booking(
                s,
                Actor(user_id=None, role=Role.member, member_id=member.id),
                machine_id=machine.id,
                start=start,
                end=start + dt.timedelta(minutes=30),
            )
            held.append((booking.id, token, start + dt.timedelta(hours=ROUNDS)))
        s.commit()

    def change(job: tuple[int, str, str, dt.datetime, str]) -> tuple[int, str, int, str | None]:
        booking_id, op, token, moved_to, manager_token = job
        if op == "move":
            answer = http(
                "PATCH",
                f"/bookings/{booking_id}",
                token,
                {
                    "start": moved_to.isoformat(),
                    "end": (moved_to + dt.timedelta(minutes=30)).isoformat(),
                },
            )
        elif op == "cancel":
            answer = http("POST", f"/bookings/{booking_id}/cancel", token, {"reason": "batal"})
        else:
            answer = http("POST", f"/bookings/{booking_id}/confirm", manager_token)
        return (booking_id, op, *answer)

    answers = _all_at_once(
        change,
        [(b, op, token, moved_to, manager) for b, token, moved_to in held for op in OPERATIONS],
    )

    assert len(answers) == ROUNDS * len(OPERATIONS)
    with Session(engine) as s:
        final = {
            b.id: b
            for b in s.scalars(select(Booking).where(Booking.id.in_([b for b, _, _ in held])))
        }
    for booking_id, _token, moved_to in held:
        mine = {op: (status, code) for b, op, status, code in answers if b == booking_id}
        assert all(status in (200, 409) for status, _ in mine.values()), mine
        assert all(
            code == "invalid_transition" for status, code in mine.values() if status == 409
        ), mine
        outcome = (
            frozenset((op, status) for op, (status, _) in mine.items()),
            final[booking_id].status.value,
        )
        assert outcome in SERIAL_OUTCOMES, mine
        assert (final[booking_id].start_at == moved_to) == (mine["move"][0] == 200)
        audit_action = {
            "move": "booking.moved",
            "cancel": "booking.cancelled",
            "confirm": "booking.confirmed",
        }
        done = [audit_action[op] for op, (status, _) in mine.items() if status == 200]
        audited = [a for a in _audited(engine, "bookings", booking_id) if a != "booking.created"]
        assert audited == sorted(done)


# --- retrying a transaction that lost to a deadlock or serialisation failure ------------------


class _DatabaseSaid(Exception):
    """What a driver raises, with the SQLSTATE it reports."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def _database_fails_on(monkeypatch, action: str, error: Exception, times: int | None):  # type: ignore[no-untyped-def]
    """Make the database raise `error` when the service is about to record `action` (after
    the change itself has been written), `times` times or always; the list counts attempts."""
    real = audit.record
    attempts: list[str] = []

    def record(session, actor, what, *args, **kwargs):  # type: ignore[no-untyped-def]
        if what == action:
            attempts.append(what)
            if times is None or len(attempts) <= times:
                raise error
        return real(session, actor, what, *args, **kwargs)

    monkeypatch.setattr(audit, "record", record)
    return attempts


def _lost(sqlstate: str) -> OperationalError:
    return OperationalError("UPDATE loan_applications SET status=...", {}, _DatabaseSaid(sqlstate))


@pytest.fixture()
def submitted_application(db, make_aggregator, make_cluster, make_member, make_user, token_for):  # type: ignore[no-untyped-def]
    aggregator = make_aggregator(approval_limit=500_000_000)
    chair = make_member()
    cluster = make_cluster(aggregator=aggregator, members=[chair], chair_member_id=chair.id)
    app = loans.create(
        db,
        ADMIN,
        cluster_id=cluster.id,
        requested_amount=20_000_000,
        tenor_months=12,
        on=dt.date(2026, 1, 10),
    )
    loans.submit(db, ADMIN, app.id)
    return app, token_for(make_user(Role.aggregator, aggregator=aggregator))


@pytest.mark.parametrize("sqlstate", ["40001", "40P01"])
def test_a_decision_that_loses_to_a_serialisation_failure_or_deadlock_once_is_run_again_and_succeeds(
    client, db, monkeypatch, submitted_application, sqlstate
):
    app, endorser = submitted_application
    attempts = _database_fails_on(
        monkeypatch, "loan_application.rejected", _lost(sqlstate), times=1
    )

    r = client.post(
        f"/api/v1/loan-applications/{app.id}/reject",
        headers=endorser,
        json={"reason": "Omzet belum cukup"},
    )

    assert r.status_code == 200, r.json
    assert (r.json["status"], r.json["decisions"][-1]["note"]) == ("rejected", "Omzet belum cukup")
    assert len(attempts) == 2
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == "loan_application.rejected",
                AuditEvent.object_id == str(app.id),
            )
        )
        == 1
    )


def test_a_decision_that_keeps_losing_to_serialisation_failures_answers_503_after_three_attempts(
    client, db, monkeypatch, submitted_application
):
    app, endorser = submitted_application
    attempts = _database_fails_on(
        monkeypatch, "loan_application.approved", _lost("40001"), times=None
    )

    r = client.post(f"/api/v1/loan-applications/{app.id}/approve", headers=endorser, json={})

    assert r.status_code == 503
    assert r.json["code"] == "service_unavailable" and r.headers["Retry-After"]
    assert len(attempts) == 3
    db.refresh(app)
    assert app.status.value == "submitted" and app.approved_by_id is None


@pytest.fixture()
def confirmed(db, make_machine, make_member, make_user, token_for):  # type: ignore[no-untyped-def]
    machine = make_machine()
    member = make_member(house_id=machine.house_id)
    day = working_day()
    booking = bookings.create_booking(
        db,
        Actor(user_id=None, role=Role.member, member_id=member.id),
        machine_id=machine.id,
        start=at(day, "09:00"),
        end=at(day, "10:00"),
    )
    return booking, token_for(make_user(Role.member, member=member)), day


def test_a_move_that_loses_its_slot_to_a_concurrent_booking_answers_409_booking_conflict_not_503(
    client, monkeypatch, confirmed
):
    booking, member, day = confirmed
    taken = IntegrityError("UPDATE bookings SET start_at=...", {}, _DatabaseSaid("23P01"))
    attempts = _database_fails_on(monkeypatch, "booking.moved", taken, times=None)

    r = client.patch(
        f"/api/v1/bookings/{booking.id}",
        headers=member,
        json={"start": at(day, "11:00").isoformat(), "end": at(day, "12:00").isoformat()},
    )

    assert (r.status_code, r.json["code"]) == (409, "booking_conflict")
    assert len(attempts) == 1


def test_a_booking_changed_under_its_version_check_answers_409_stale_not_500(
    client, monkeypatch, confirmed
):
    booking, member, _day = confirmed
    _database_fails_on(
        monkeypatch,
        "booking.cancelled",
        StaleDataError(
            "UPDATE statement on table 'bookings' expected to update 1 row(s); 0 were matched."
        ),
        times=None,
    )

    r = client.post(f"/api/v1/bookings/{booking.id}/cancel", headers=member, json={})

    assert (r.status_code, r.json["code"]) == (409, "stale")
    assert set(r.json) >= {"code", "status", "message", "errors"}
