"""Shared fixtures: a migrated database, a transaction rolled back per test, factories.

The suite runs against SQLite by default and against PostgreSQL when DATABASE_URL points
there (as .ci/run does). Each test runs inside an outer transaction on one connection;
the app's and the factories' sessions join it with savepoints, so whatever a test commits
is rolled back when it ends.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from factoryshare import clock as product_clock
from factoryshare.config import Settings
from factoryshare.db import make_engine
from factoryshare.migrate import upgrade
from factoryshare.models import (
    Aggregator,
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
from factoryshare.models.members import ClusterInvitation, InvitationStatus
from factoryshare.services import accounts
from tests.clock import FrozenClock
from tests.solving import WORK_PER_SECOND

TEST_PASSWORD = "correct-horse-battery-42"

WEEKDAY_HOURS = {day: [["08:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
WEEKDAY_HOURS["sat"] = [["08:00", "12:00"]]


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return Settings.from_env({"DATABASE_URL": url}).database_url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    instance = tmp_path_factory.mktemp("instance")
    return Settings.from_env(
        {
            "FACTORYSHARE_ENV": "test",
            "SECRET_KEY": "test-secret-key-that-is-long-enough-for-tests",
            "FACTORYSHARE_INSTANCE": str(instance),
            "DATABASE_URL": _database_url(tmp_path_factory),
            # Solves made in a request (the capacity check) are reproducible, as the worker's.
            "SOLVER_WORK_PER_SECOND": str(WORK_PER_SECOND),
        }
    )


@pytest.fixture(scope="session")
def is_postgres(settings: Settings) -> bool:
    return settings.database_url.startswith("postgresql")


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    if engine.dialect.name == "postgresql":
        # Start from an empty schema so that the migrations are what builds it.
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def clock(request: pytest.FixtureRequest) -> Iterator[FrozenClock]:
    """The product's clock, frozen at Tuesday 1 December 2026 09:00 WIB for every test
    (tests/clock.py); move it with `clock.set(...)` / `clock.advance(...)`. A test marked
    `wall_clock` reads the real time instead."""
    frozen = FrozenClock()
    if request.node.get_closest_marker("wall_clock") is not None:
        yield frozen
        return
    with product_clock.using(frozen.now):
        yield frozen


@pytest.fixture()
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        if outer.is_active:
            outer.rollback()
        conn.close()


@pytest.fixture()
def session_factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture()
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    session = session_factory()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture()
def app(settings: Settings, session_factory: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    from api import create_app

    app = create_app(settings, session_factory=session_factory)
    app.config["TESTING"] = True
    return app


@pytest.fixture()
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


# ---------------------------------------------------------------------------------------------
# Factories: each returns a flushed object with sensible defaults; pass overrides by keyword.

_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


@pytest.fixture(scope="session")
def password_hash() -> str:
    # Argon2id is deliberately slow; hash the test password once per run.
    return accounts.hash_password(TEST_PASSWORD)


def _nib(n: int) -> str:
    return f"91{n:011d}"[-13:]


def _nik(n: int) -> str:
    # Region 32.05.10 (Garut), born 12 May 1985, sequence n.
    return f"320510120585{n % 10000:04d}"


@pytest.fixture()
def make_capability(db: Session) -> Callable[..., Capability]:
    def make(**overrides: Any) -> Capability:
        n = _n()
        values: dict[str, Any] = {"code": f"cap_{n}", "name": f"Capability {n}"}
        values.update(overrides)
        existing = db.query(Capability).filter_by(code=values["code"]).first()
        if existing is not None:
            return existing
        obj = Capability(**values)
        db.add(obj)
        db.flush()
        return obj

    return make


@pytest.fixture()
def make_house(db: Session) -> Callable[..., ProductionHouse]:
    def make(**overrides: Any) -> ProductionHouse:
        n = _n()
        values: dict[str, Any] = {
            "name": f"Rumah Produksi {n}",
            "address": "Jl. Contoh No. 1",
            "region": "Garut",
            "timezone": "Asia/Jakarta",
            "opening_hours": WEEKDAY_HOURS,
            "slot_minutes": 30,
            "requires_confirmation": False,
            "hold_minutes": 24 * 60,
            "max_days_ahead": 60,
        }
        values.update(overrides)
        obj = ProductionHouse(**values)
        db.add(obj)
        db.flush()
        return obj

    return make


@pytest.fixture()
def make_machine(db: Session, make_house, make_capability) -> Callable[..., Machine]:  # type: ignore[no-untyped-def]
    def make(*, capabilities: list[str] | None = None, **overrides: Any) -> Machine:
        n = _n()
        if "house" not in overrides and "house_id" not in overrides:
            overrides["house"] = make_house()
        values: dict[str, Any] = {"code": f"M-{n}", "name": f"Mesin {n}", "hourly_rate": 50_000}
        values.update(overrides)
        caps = [make_capability(code=c, name=c) for c in (capabilities or ["sewing"])]
        obj = Machine(**values)
        obj.capabilities = caps
        db.add(obj)
        db.flush()
        return obj

    return make


@pytest.fixture()
def make_member(db: Session, make_house) -> Callable[..., Member]:  # type: ignore[no-untyped-def]
    def make(**overrides: Any) -> Member:
        n = _n()
        if "house" not in overrides and "house_id" not in overrides:
            overrides["house_id"] = make_house().id
        house = overrides.pop("house", None)
        if house is not None:
            overrides["house_id"] = house.id
        values: dict[str, Any] = {
            "business_name": f"UD Maju Jaya {n}",
            "nib": _nib(n),
            "owner_name": f"Siti Rahayu {n}",
            "owner_nik": _nik(n),
            "sector": Sector.fashion,
            "phone": "+6281234567890",
            "email": f"usaha{n}@example.id",
        }
        values.update(overrides)
        obj = Member(**values)
        db.add(obj)
        db.flush()
        return obj

    return make


@pytest.fixture()
def make_aggregator(db: Session) -> Callable[..., Aggregator]:
    def make(**overrides: Any) -> Aggregator:
        n = _n()
        values: dict[str, Any] = {"name": f"Koperasi Mitra {n}", "approval_limit": 500_000_000}
        values.update(overrides)
        obj = Aggregator(**values)
        db.add(obj)
        db.flush()
        return obj

    return make


@pytest.fixture()
def make_lender(db: Session) -> Callable[..., Any]:
    """A lender institution (a bank unless `kind` says otherwise)."""
    from factoryshare.models.financing import Lender, LenderKind

    def make(**overrides: Any) -> Lender:
        n = _n()
        values: dict[str, Any] = {"name": f"Bank Rakyat Uji {n}", "kind": LenderKind.bank}
        values.update(overrides)
        obj = Lender(**values)
        db.add(obj)
        db.flush()
        return obj

    return make


@pytest.fixture()
def make_cluster(db: Session, make_aggregator) -> Callable[..., Cluster]:  # type: ignore[no-untyped-def]
    def make(
        *,
        members: list[Member] | None = None,
        invited: list[Member] | None = None,
        **overrides: Any,
    ) -> Cluster:
        """A cluster whose `members` have accepted and whose `invited` have not answered yet."""
        n = _n()
        if "aggregator" not in overrides and "aggregator_id" not in overrides:
            overrides["aggregator"] = make_aggregator()
        values: dict[str, Any] = {"name": f"Klaster {n}", "sector": Sector.fashion}
        values.update(overrides)
        obj = Cluster(**values)
        obj.members = list(members or [])
        obj.invitations = [
            ClusterInvitation(
                member=m, status=InvitationStatus.accepted, on_behalf=False, reason=""
            )
            for m in members or []
        ] + [
            ClusterInvitation(member=m, status=InvitationStatus.invited, on_behalf=False, reason="")
            for m in invited or []
        ]
        db.add(obj)
        db.flush()
        return obj

    return make


@pytest.fixture()
def make_product(db: Session, make_member, make_capability) -> Callable[..., Product]:  # type: ignore[no-untyped-def]
    def make(*, routing: list[tuple[str, int, int]] | None = None, **overrides: Any) -> Product:
        """`routing` is a list of (capability code, setup minutes, minutes per unit)."""
        n = _n()
        if "member" not in overrides and "member_id" not in overrides:
            overrides["member"] = make_member()
        values: dict[str, Any] = {"name": f"Produk {n}", "sector": Sector.fashion}
        values.update(overrides)
        steps = routing if routing is not None else [("sewing", 15, 5)]
        cap_ids = [make_capability(code=c, name=c).id for c, _, _ in steps]
        obj = Product(**values)
        obj.routing = [
            RoutingStep(position=i, capability_id=cap_id, setup_minutes=s, minutes_per_unit=m)
            for i, (cap_id, (_, s, m)) in enumerate(zip(cap_ids, steps), start=1)
        ]
        db.add(obj)
        db.flush()
        return obj

    return make


@pytest.fixture()
def make_user(
    db: Session,
    password_hash: str,
    make_house,
    make_member,
    make_aggregator,  # type: ignore[no-untyped-def]
    make_lender,
):
    def make(role: Role | str = Role.member, **overrides: Any) -> User:
        role = Role(role)
        n = _n()
        houses = overrides.pop("houses", None)
        if role is Role.manager and houses is None:
            houses = [make_house()]
        if role is Role.member and "member" not in overrides and "member_id" not in overrides:
            overrides["member"] = make_member()
        if (
            role is Role.aggregator
            and "aggregator" not in overrides
            and "aggregator_id" not in overrides
        ):
            overrides["aggregator"] = make_aggregator()
        if role is Role.lender and "lender" not in overrides and "lender_id" not in overrides:
            overrides["lender"] = make_lender()
        values: dict[str, Any] = {
            "email": f"user{n}@example.id",
            "name": f"Pengguna {n}",
            "password_hash": password_hash,
            "role": role,
            "language": "id",
            "is_active": True,
            "failed_logins": 0,
        }
        values.update(overrides)
        obj = User(**values)
        if houses:
            obj.houses = list(houses)
        db.add(obj)
        db.flush()
        return obj

    return make


@pytest.fixture()
def token_for(db: Session) -> Callable[[User], dict[str, str]]:
    """Authorization headers for a user (a real token, as the service stores one). It is good
    for two years of the tests' clock, so that a test walking a loan through its months keeps
    its callers signed in."""
    import hashlib
    import secrets

    from factoryshare.models import ApiToken

    def make(user: User) -> dict[str, str]:
        token = secrets.token_urlsafe(32)
        db.add(
            ApiToken(
                user_id=user.id,
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                expires_at=product_clock.now() + dt.timedelta(days=2 * 366),
            )
        )
        db.flush()
        return {"Authorization": f"Bearer {token}"}

    return make


# ---------------------------------------------------------------------------------------------
# Area factories live in tests/factories/<area>.py; bring their fixtures into this conftest
# so that every test can ask for them by name.


def _register_area_factories() -> None:
    import importlib
    import pkgutil

    import tests.factories as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, value in vars(module).items():
            # Factory fixtures are named make_<thing>; only those are shared.
            if name.startswith("make_"):
                globals()[name] = value


_register_area_factories()
