"""Booking under load: N concurrent clients against a real server on PostgreSQL.

    python benchmarks/booking_load.py --clients 16 --seconds 30 --gunicorn-workers 2

It prepares a benchmark database (the schema of DATABASE_URL is dropped and migrated again,
so never point it at data you want to keep), creates one house with a few machines and one
member account per client, starts `gunicorn api.wsgi:app`, and lets every client create, move
and cancel its bookings on random slots for a fixed time. It prints bookings per second,
latency p50/p95/p99 per operation, answers by status and error code, and the overlapping live
bookings found afterwards (must be 0). Then the same number of threads insert bookings
straight through SQL with no HTTP, as the limit to compare against.

This is a benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import hashlib
import http.client
import json
import os
import platform
import random
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, insert, make_url, text
from sqlalchemy.exc import DBAPIError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from factoryshare.db import make_engine, make_session_factory
from factoryshare.migrate import upgrade
from factoryshare.models import (
    ApiToken,
    Capability,
    Machine,
    Member,
    ProductionHouse,
    Role,
    Sector,
    User,
)
from factoryshare.models.bookings import Booking, BookingSource, BookingStatus
from factoryshare.services import accounts
from factoryshare.services.bookings import count_overlapping_live

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fs_bench"
ZONE_OFFSET = dt.timezone(dt.timedelta(hours=7))  # Asia/Jakarta, no daylight saving
ALWAYS_OPEN = {
    day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}


def ensure_database(url: str) -> None:
    """Create the benchmark's database when it does not exist yet (a fresh machine has only
    the server's own databases), through the server's `postgres` database."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            )
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def reset_database(url: str) -> None:
    """Create the database if need be, drop its schema and migrate it from nothing."""
    ensure_database(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(url)


def prepare(url: str, clients: int, machines: int) -> tuple[list[int], list[str]]:
    reset_database(url)
    session = make_session_factory(make_engine(url))()
    # Opening hours round the clock and a 60-day window: the benchmark measures the booking
    # path, not how often a random slot falls on a closed hour. (Holidays still apply.)
    house = ProductionHouse(
        name="Rumah Produksi Beban",
        timezone="Asia/Jakarta",
        opening_hours=ALWAYS_OPEN,
        slot_minutes=30,
        max_days_ahead=60,
        requires_confirmation=False,
    )
    sewing = Capability(code="sewing", name="Menjahit")
    session.add_all([house, sewing])
    session.flush()
    machine_ids = []
    for i in range(machines):
        m = Machine(
            house_id=house.id, code=f"JK-{i + 1:02d}", name=f"Juki {i + 1}", hourly_rate=25_000
        )
        m.capabilities = [sewing]
        session.add(m)
        session.flush()
        machine_ids.append(m.id)
    password_hash = accounts.hash_password(secrets.token_urlsafe(16))
    tokens = []
    for i in range(clients):
        member = Member(
            house_id=house.id,
            business_name=f"UD Beban {i + 1}",
            nib=f"9120000{i:06d}",
            owner_name=f"Pemilik {i + 1}",
            owner_nik=f"3205101205850{i % 1000:03d}",
            sector=Sector.fashion,
            phone="+6281234567890",
            email=f"beban{i}@example.id",
        )
        session.add(member)
        session.flush()
        user = User(
            email=f"beban{i}@example.id",
            name=f"Beban {i}",
            password_hash=password_hash,
            role=Role.member,
            member_id=member.id,
        )
        session.add(user)
        session.flush()
        token = secrets.token_urlsafe(32)
        session.add(
            ApiToken(
                user_id=user.id,
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=4),
            )
        )
        tokens.append(token)
    session.commit()
    session.close()
    return machine_ids, tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int, workers: int) -> subprocess.Popen:
    env = dict(
        os.environ,
        DATABASE_URL=url,
        FACTORYSHARE_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        FACTORYSHARE_LOG_LEVEL="WARNING",
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [
            str(gunicorn),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "api.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(200):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/openapi.json")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def random_slot(rng: random.Random) -> tuple[dt.datetime, dt.datetime]:
    today = dt.datetime.now(ZONE_OFFSET).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today + dt.timedelta(days=rng.randint(1, 30), minutes=30 * rng.randint(0, 44))
    return start, start + dt.timedelta(minutes=30 * rng.randint(1, 4))


class Client(threading.Thread):
    def __init__(
        self, port: int, token: str, machine_ids: list[int], until: float, seed: int
    ) -> None:
        super().__init__(daemon=True)
        self.port, self.token, self.machine_ids, self.until = port, token, machine_ids, until
        self.rng = random.Random(seed)
        self.latency: dict[str, list[float]] = collections.defaultdict(list)
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.mine: list[int] = []

    def call(self, method: str, path: str, body: dict | None) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        conn.request(
            method, path, body=json.dumps(body) if body is not None else None, headers=headers
        )
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, (json.loads(data) if data else {})

    def run(self) -> None:
        while time.perf_counter() < self.until:
            roll = self.rng.random()
            if self.mine and roll < 0.15:
                op, booking_id = "cancel", self.mine.pop(self.rng.randrange(len(self.mine)))
                method, path, body = "POST", f"/api/v1/bookings/{booking_id}/cancel", {}
            elif self.mine and roll < 0.30:
                op, booking_id = "move", self.rng.choice(self.mine)
                start, end = random_slot(self.rng)
                method, path, body = (
                    "PATCH",
                    f"/api/v1/bookings/{booking_id}",
                    {"start": start.isoformat(), "end": end.isoformat()},
                )
            else:
                op = "create"
                start, end = random_slot(self.rng)
                method, path, body = (
                    "POST",
                    "/api/v1/bookings",
                    {
                        "machine_id": self.rng.choice(self.machine_ids),
                        "start": start.isoformat(),
                        "end": end.isoformat(),
                    },
                )
            t = time.perf_counter()
            try:
                status, data = self.call(method, path, body)
            except OSError as exc:
                self.outcomes[f"{op} transport error {type(exc).__name__}"] += 1
                continue
            self.latency[op].append(time.perf_counter() - t)
            code = data.get("code", "") if status >= 400 else ""
            self.outcomes[f"{op} {status} {code}".strip()] += 1
            if op == "create" and status == 201:
                self.mine.append(data["id"])


def sql_baseline(
    url: str, machine_ids: list[int], member_ids: list[int], threads: int, seconds: float
) -> dict:
    """The same inserts with no HTTP and no service layer: the database's own limit."""
    engine = make_engine(url)
    until = time.perf_counter() + seconds
    counts: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()

    def work(seed: int) -> None:
        rng = random.Random(seed)
        local: collections.Counter[str] = collections.Counter()
        while time.perf_counter() < until:
            start, end = random_slot(rng)
            try:
                with engine.begin() as conn:
                    conn.execute(
                        insert(Booking).values(
                            machine_id=rng.choice(machine_ids),
                            member_id=rng.choice(member_ids),
                            start_at=start.astimezone(dt.UTC),
                            end_at=end.astimezone(dt.UTC),
                            status=BookingStatus.confirmed.value,
                            source=BookingSource.direct.value,
                            hourly_rate=25_000,
                            price=25_000,
                            note="",
                            created_at=dt.datetime.now(dt.UTC),
                            updated_at=dt.datetime.now(dt.UTC),
                        )
                    )
                local["inserted"] += 1
            except DBAPIError:
                local["refused by the exclusion constraint"] += 1
        with lock:
            counts.update(local)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    engine.dispose()
    attempts = counts["inserted"] + counts["refused by the exclusion constraint"]
    return {
        "inserted": counts["inserted"],
        "refused": counts["refused by the exclusion constraint"],
        "per_second": round(counts["inserted"] / seconds, 1),
        "attempts_per_second": round(attempts / seconds, 1),
    }


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--machines", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        raise SystemExit(
            "The load benchmark runs on PostgreSQL (the exclusion constraint is the point)."
        )

    machine_ids, tokens = prepare(args.database_url, args.clients, args.machines)
    port = free_port()
    server = start_server(args.database_url, port, args.gunicorn_workers)
    try:
        until = time.perf_counter() + args.seconds
        clients = [
            Client(port, token, machine_ids, until, seed) for seed, token in enumerate(tokens)
        ]
        for c in clients:
            c.start()
        for c in clients:
            c.join()
    finally:
        server.terminate()
        server.wait(timeout=30)

    session = make_session_factory(make_engine(args.database_url))()
    overlapping = count_overlapping_live(session)
    live = session.scalar(
        text("SELECT count(*) FROM bookings WHERE status IN ('held', 'confirmed')")
    )
    member_ids = list(session.scalars(text("SELECT id FROM members")))
    session.close()

    latency: dict[str, list[float]] = collections.defaultdict(list)
    outcomes: collections.Counter[str] = collections.Counter()
    for c in clients:
        for op, values in c.latency.items():
            latency[op].extend(values)
        outcomes.update(c.outcomes)
    created = outcomes["create 201"]
    requests = sum(len(v) for v in latency.values())
    baseline = sql_baseline(
        args.database_url, machine_ids, member_ids, args.clients, min(args.seconds, 15)
    )

    report = {
        "date": dt.date.today().isoformat(),
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
        "python": platform.python_version(),
        "clients": args.clients,
        "machines": args.machines,
        "seconds": args.seconds,
        "gunicorn_workers": args.gunicorn_workers,
        "requests": requests,
        "requests_per_second": round(requests / args.seconds, 1),
        "bookings_created": created,
        "bookings_per_second": round(created / args.seconds, 1),
        "latency_ms": {
            op: {
                "p50": round(1000 * percentile(v, 50), 1),
                "p95": round(1000 * percentile(v, 95), 1),
                "p99": round(1000 * percentile(v, 99), 1),
                "n": len(v),
            }
            for op, v in sorted(latency.items())
        },
        "outcomes": dict(sorted(outcomes.items())),
        "live_bookings_after": live,
        "overlapping_live_bookings": overlapping,
        "sql_only_inserts": baseline,
    }
    print(
        f"{args.clients} clients, {args.seconds:.0f} s, gunicorn -w {args.gunicorn_workers}, "
        f"{args.machines} machines, PostgreSQL"
    )
    print(
        f"requests {requests} ({report['requests_per_second']}/s); bookings created {created} "
        f"({report['bookings_per_second']}/s)"
    )
    for op, figures in report["latency_ms"].items():
        print(
            f"  {op:<7} n={figures['n']:<6} p50 {figures['p50']} ms  p95 {figures['p95']} ms  "
            f"p99 {figures['p99']} ms"
        )
    for outcome, n in report["outcomes"].items():
        print(f"  {outcome}: {n}")
    print(f"overlapping live bookings afterwards: {overlapping} (of {live} live)")
    print(
        f"SQL only, {args.clients} threads: {baseline['attempts_per_second']} insert attempts/s, "
        f"{baseline['per_second']} inserted/s ({baseline['refused']} refused by the exclusion "
        "constraint as the slots filled up)"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    if overlapping:
        raise SystemExit("OVERLAPPING LIVE BOOKINGS FOUND")


if __name__ == "__main__":
    main()
