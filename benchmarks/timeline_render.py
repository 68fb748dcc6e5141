"""The manager's week timeline rendered in-process by Flask's test client, per page and per
booking.

    python benchmarks/timeline_render.py                       # 20 machines, 200 and 1,000 bookings
    python benchmarks/timeline_render.py --bookings 200 --repeats 15
    python benchmarks/timeline_render.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/fs_x

Each data set is a fresh house (opening hours Monday to Friday 08:00-17:00, Saturday to
noon) of `--machines` machines with the bookings spread evenly over the working days of next
week (a third held, the rest confirmed, 30 minutes each, one member per 20 bookings) and a
downtime on every fifth machine: what `GET /manager/timeline?view=week` draws as bars, one
panel per booking and a row of the table. The default database is a temporary SQLite file;
a PostgreSQL URL is dropped and migrated again (never point it at data you want to keep).

The manager signs in through the login form once; each page is requested `--warmup` times
unmeasured, then `--repeats` times. It prints the median, the fastest and the slowest page in
ms (wall clock), the median per booking, the same medians in CPU time of this process (what
other processes on a loaded machine disturb least), and the SQL statements one page sends
(an SQLAlchemy event listener on the app's engine). Timings belong here, never in a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from factoryshare.config import Settings
from factoryshare.db import make_engine, make_session_factory
from factoryshare.migrate import upgrade
from factoryshare.models import (
    Machine,
    Member,
    ProductionHouse,
    Role,
    Sector,
    User,
    house_managers,
)
from factoryshare.models.bookings import Booking, BookingSource, BookingStatus
from factoryshare.models.houses import Downtime, DowntimeKind
from factoryshare.services import accounts, calendar

PASSWORD = "bench-timeline-2026"
HOURS = {day: [["08:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
HOURS["sat"] = [["08:00", "12:00"]]
SLOT = dt.timedelta(minutes=30)
SLOTS_PER_DAY = 18  # 08:00 to 17:00 in half hours
RATE = 25_000
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def next_week_days(zone: dt.tzinfo) -> list[dt.date]:
    """The working days (Monday to Friday, no public holiday) of next week in the house's zone."""
    today = dt.datetime.now(zone).date()
    monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7)
    days = [monday + dt.timedelta(days=i) for i in range(5)]
    return [d for d in days if calendar.holiday_name(d) is None] or days


def make_house(session, n: int, machines: int, bookings: int) -> tuple[str, dt.date]:
    """A house with its manager, machines, members, bookings and downtimes; returns the
    manager's e-mail and the Monday of the week drawn."""
    house = ProductionHouse(
        name=f"Rumah Produksi Ukur {n}",
        timezone="Asia/Jakarta",
        opening_hours=HOURS,
        slot_minutes=30,
        max_days_ahead=60,
        requires_confirmation=True,
    )
    session.add(house)
    session.flush()
    made = [
        Machine(
            house_id=house.id,
            code=f"U{n}-{i + 1:02d}",
            name=f"Mesin Jahit {i + 1:02d}",
            hourly_rate=RATE,
        )
        for i in range(machines)
    ]
    session.add_all(made)
    members = [
        Member(
            house_id=house.id,
            business_name=f"UD Ukur {n}-{i + 1}",
            nib=f"92{n:03d}{i:08d}",
            owner_name=f"Pemilik {i + 1}",
            owner_nik=f"3205101205{(n * 1000 + i) % 1000000:06d}",
            sector=Sector.fashion,
            phone="+6281234567890",
            email=f"ukur{n}-{i}@example.id",
        )
        for i in range(max(1, bookings // 20))
    ]
    session.add_all(members)
    session.flush()
    zone = calendar.house_zone(house)
    days = next_week_days(zone)
    per_machine = -(-bookings // machines)
    per_day = -(-per_machine // len(days))
    step = max(1, SLOTS_PER_DAY // per_day)
    now = dt.datetime.now(dt.UTC)
    placed = 0
    for m, machine in enumerate(made):
        for k in range(per_machine):
            if placed == bookings:
                break
            day, j = days[k % len(days)], k // len(days)
            start = dt.datetime.combine(day, dt.time(8), tzinfo=zone) + j * step * SLOT
            held = k % 3 == 0
            session.add(
                Booking(
                    machine_id=machine.id,
                    member_id=members[(m + k) % len(members)].id,
                    start_at=start.astimezone(dt.UTC),
                    end_at=(start + SLOT).astimezone(dt.UTC),
                    status=BookingStatus.held if held else BookingStatus.confirmed,
                    source=BookingSource.direct,
                    hourly_rate=RATE,
                    price=RATE // 2,
                    hold_expires_at=now + dt.timedelta(days=2) if held else None,
                )
            )
            placed += 1
        if m % 5 == 0:
            noon = dt.datetime.combine(days[0], dt.time(12), tzinfo=zone).astimezone(dt.UTC)
            session.add(
                Downtime(
                    machine_id=machine.id,
                    start_at=noon,
                    end_at=noon + dt.timedelta(hours=1),
                    kind=DowntimeKind.maintenance,
                    reason="Servis berkala",
                )
            )
    email = f"manajer.ukur{n}@example.id"
    manager = User(
        email=email,
        name=f"Manajer Ukur {n}",
        password_hash=accounts.hash_password(PASSWORD),
        role=Role.manager,
    )
    session.add(manager)
    session.flush()
    session.execute(house_managers.insert().values(user_id=manager.id, house_id=house.id))
    session.commit()
    return email, days[0] - dt.timedelta(days=days[0].weekday())


def sign_in(client, email: str) -> None:  # type: ignore[no-untyped-def]
    token = _TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
    r = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    if r.status_code != 302:
        raise SystemExit(f"sign-in failed: {r.status_code}")


def measure(app, engine, email: str, monday: dt.date, bookings: int, args) -> dict:  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, email)
    url = f"/manager/timeline?view=week&day={monday.isoformat()}"
    for _ in range(args.warmup):
        page = client.get(url)
        if page.status_code != 200:
            raise SystemExit(f"{url}: {page.status_code}")
    drawn = page.get_data(as_text=True).count('class="bar-link"')
    if drawn != bookings:
        raise SystemExit(f"the page draws {drawn} bookings, {bookings} were made")
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    client.get(url)
    event.remove(engine, "before_cursor_execute", count)
    times, cpu = [], []
    for _ in range(args.repeats):
        began, began_cpu = time.perf_counter(), time.process_time()
        client.get(url).get_data()
        times.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    median = statistics.median(times)
    return {
        "bookings": bookings,
        "median": median,
        "min": min(times),
        "max": max(times),
        "cpu": statistics.median(cpu),
        "per_booking": median / bookings,
        "cpu_per_booking": statistics.median(cpu) / bookings,
        "statements": len(statements),
        "bytes": len(page.get_data()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--machines", type=int, default=20)
    parser.add_argument("--bookings", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--database-url", default=os.environ.get("TIMELINE_BENCH_URL"))
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="timeline-bench-")
    url = args.database_url or f"sqlite:///{instance}/bench.db"
    if url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    houses = []
    with factory() as session:
        for n, count in enumerate(args.bookings, start=1):
            houses.append((*make_house(session, n, args.machines, count), count))

    from api import create_app

    settings = Settings.from_env(
        {
            "FACTORYSHARE_ENV": "test",
            "SECRET_KEY": "timeline-bench-secret-key-long-enough-for-sessions",
            "FACTORYSHARE_INSTANCE": instance,
            "DATABASE_URL": url,
        }
    )
    app = create_app(settings, session_factory=factory)
    print(
        f"# {platform.node()} · Python {platform.python_version()} · {os.cpu_count()} cores · "
        f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())} · {engine.dialect.name} · "
        f"{args.machines} machines · week view · median of {args.repeats} after {args.warmup}"
    )
    print(
        f"{'bookings':>8} {'ms/page':>9} {'min':>8} {'max':>8} {'ms/booking':>11} "
        f"{'cpu ms/page':>12} {'cpu ms/booking':>15} {'statements':>10} {'KB':>6}"
    )
    for email, monday, count in houses:
        r = measure(app, engine, email, monday, count, args)
        print(
            f"{r['bookings']:>8} {r['median']:>9.1f} {r['min']:>8.1f} {r['max']:>8.1f} "
            f"{r['per_booking']:>11.3f} {r['cpu']:>12.1f} {r['cpu_per_booking']:>15.3f} "
            f"{r['statements']:>10} {r['bytes'] / 1024:>6.0f}"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
