"""factoryshare's API beside a bare Flask + SQLAlchemy Core app, under the same gunicorn.

    python benchmarks/api_bench.py --data small --seconds 20 --repeats 3
    python benchmarks/api_bench.py --data large --seconds 20 --repeats 3

Both apps run under `gunicorn -w 2` (sync workers) on the same PostgreSQL database and are driven
by the same client, wrk (Debian's package: `make bench-api` installs it as root), with 16
connections on 2 threads, alternating: bare POST, factoryshare POST, then factoryshare's
availability, list page, deep list page and timeline page; the whole round repeated. Each POST
books a slot no other request of the run books, so a 409 means a rule refused it, not a race.

Data sets (the benchmark database is dropped and migrated again: never point it at data you
want to keep):
- small: one house of 20 machines open round the clock with 200 bookings, 16 members;
- large: 50 houses, 1,000 machines, 5,000 members and 300,000 bookings (house 1 is driven).

Besides the rates it prints the SQL statements one request of each kind sends, counted
in-process by an SQLAlchemy event listener on the app's engine (BEGIN and COMMIT are not
statements the listener sees). This is a benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from sqlalchemy import event, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from booking_load import ALWAYS_OPEN, free_port, reset_database

from factoryshare.db import make_engine, make_session_factory
from factoryshare.models import (
    ApiToken,
    Capability,
    Machine,
    Member,
    ProductionHouse,
    Role,
    Sector,
    User,
    house_managers,
)
from factoryshare.models.bookings import Booking
from factoryshare.paging import MAX_PAGE_DEPTH
from factoryshare.services import accounts
from factoryshare.services.bookings import count_overlapping_live

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fs_apibench"
JAKARTA = dt.timezone(dt.timedelta(hours=7))
PASSWORD = "bench-" + secrets.token_urlsafe(8)
SLOT = dt.timedelta(minutes=30)
# Each POST run books from its own block of slots per machine, so runs never collide.
BLOCK_SLOTS = 2500


# --- data ------------------------------------------------------------------------------------


def _token(session, user: User) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=6),
        )
    )
    return token


def _house(
    session, name: str, machines: int, sewing: Capability
) -> tuple[ProductionHouse, list[int]]:
    house = ProductionHouse(
        name=name,
        timezone="Asia/Jakarta",
        opening_hours=ALWAYS_OPEN,
        slot_minutes=30,
        max_days_ahead=400,
        requires_confirmation=False,
    )
    session.add(house)
    session.flush()
    rows = [
        {
            "house_id": house.id,
            "code": f"M{house.id}-{i + 1:02d}",
            "name": f"Juki {i + 1}",
            "hourly_rate": 25_000,
        }
        for i in range(machines)
    ]
    ids = list(session.scalars(insert(Machine).returning(Machine.id), rows))
    session.execute(
        Machine.capabilities.property.secondary.insert(),
        [{"machine_id": m, "capability_id": sewing.id} for m in ids],
    )
    return house, ids


def _members(session, house_id: int, start: int, count: int) -> list[int]:
    rows = [
        {
            "house_id": house_id,
            "business_name": f"UD Beban {i}",
            "nib": f"91{i:011d}",
            "owner_name": f"Pemilik {i}",
            "owner_nik": f"3205101205{i % 1000000:06d}",
            "sector": Sector.fashion,
            "phone": "+6281234567890",
            "email": f"beban{i}@example.id",
        }
        for i in range(start, start + count)
    ]
    return list(session.scalars(insert(Member).returning(Member.id), rows))


def _past_bookings(
    session, machine_ids: list[int], member_ids: list[int], per_machine: int, first: dt.datetime
) -> None:
    """`per_machine` back-to-back bookings on every machine ending before `first`: a history
    the lists and the overlap check must not slow down on."""
    now = dt.datetime.now(dt.UTC)
    batch: list[dict] = []
    for mi, machine_id in enumerate(machine_ids):
        for k in range(per_machine):
            start = first - (k + 1) * 2 * SLOT
            batch.append(
                {
                    "machine_id": machine_id,
                    "member_id": member_ids[(mi + k) % len(member_ids)],
                    "start_at": start,
                    "end_at": start + SLOT,
                    "status": "completed",
                    "source": "direct",
                    "hourly_rate": 25_000,
                    "price": 12_500,
                    "note": "",
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
            if len(batch) >= 5000:
                session.execute(insert(Booking), batch)
                batch.clear()
    if batch:
        session.execute(insert(Booking), batch)


def prepare(url: str, data: str) -> dict:
    reset_database(url)
    session = make_session_factory(make_engine(url))()
    sewing = Capability(code="sewing", name="Menjahit")
    session.add(sewing)
    session.flush()
    first = (
        (dt.datetime.now(JAKARTA) + dt.timedelta(days=1))
        .replace(hour=0, minute=0, second=0, microsecond=0)
        .astimezone(dt.UTC)
    )
    houses, machines_per_house, members_per_house, past_per_machine = (
        (1, 20, 16, 10) if data == "small" else (50, 20, 100, 300)
    )
    driven_house, driven_machines, driven_members = None, [], []
    for h in range(houses):
        house, machine_ids = _house(session, f"Rumah Produksi {h + 1}", machines_per_house, sewing)
        member_ids = _members(session, house.id, h * members_per_house, members_per_house)
        _past_bookings(session, machine_ids, member_ids, past_per_machine, first)
        if h == 0:
            driven_house, driven_machines, driven_members = house, machine_ids, member_ids
        session.flush()
    bare_house, bare_machines = _house(
        session, "Rumah Produksi Pembanding", machines_per_house, sewing
    )
    bare_members = _members(session, bare_house.id, 10_000_000, 16)
    password_hash = accounts.hash_password(PASSWORD)
    tokens = []
    for i, member_id in enumerate(driven_members[:16]):
        user = User(
            email=f"beban{i}@example.id",
            name=f"Beban {i}",
            password_hash=password_hash,
            role=Role.member,
            member_id=member_id,
        )
        session.add(user)
        session.flush()
        tokens.append(_token(session, user))
    manager = User(
        email="manajer@example.id", name="Manajer", password_hash=password_hash, role=Role.manager
    )
    admin = User(
        email="admin@example.id", name="Admin", password_hash=password_hash, role=Role.admin
    )
    session.add_all([manager, admin])
    session.flush()
    session.execute(house_managers.insert().values(user_id=manager.id, house_id=driven_house.id))
    manager_token, admin_token = _token(session, manager), _token(session, admin)
    session.commit()
    bookings = session.scalar(text("SELECT count(*) FROM bookings"))
    session.close()
    return {
        "house_id": driven_house.id,
        "machines": driven_machines,
        "tokens": tokens,
        "bare_machines": bare_machines,
        "bare_members": bare_members,
        "manager_token": manager_token,
        "admin_token": admin_token,
        "first": first,
        "bookings": bookings,
        "houses": houses,
        "machine_count": houses * machines_per_house + machines_per_house,
        "member_count": houses * members_per_house + 16,
    }


# --- servers ---------------------------------------------------------------------------------


def start(cmd: list[str], cwd: Path, env: dict, port: int, probe: str) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, cwd=cwd, env=env)
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", probe)
            conn.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{cmd} did not start")


def gunicorn(app: str, cwd: Path, url: str, port: int, workers: int) -> subprocess.Popen:
    env = dict(
        os.environ,
        DATABASE_URL=url,
        FACTORYSHARE_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        FACTORYSHARE_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    exe = Path(sys.executable).with_name("gunicorn")
    return start(
        [str(exe), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning", app],
        cwd,
        env,
        port,
        "/",
    )


def page_cookie(port: int, email: str) -> str:
    """Sign in through the login form and return the session cookie the browser would hold."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/login")
    resp = conn.getresponse()
    page = resp.read().decode()
    cookie = resp.getheader("Set-Cookie", "").split(";")[0]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": csrf})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(
        "POST",
        "/login",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    resp = conn.getresponse()
    resp.read()
    if resp.status != 302:
        raise SystemExit(f"page sign-in failed: {resp.status}")
    return resp.getheader("Set-Cookie", "").split(";")[0]


# --- the client ------------------------------------------------------------------------------

POST_SCRIPT = r"""
local counter = 0
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
function init(args)
  nthreads = tonumber(args[1])
  base = tonumber(args[2])
  machines = {}
  for m in string.gmatch(args[3], "[^,]+") do machines[#machines + 1] = m end
  tokens = {}
  for t in string.gmatch(args[4], "[^,]+") do tokens[#tokens + 1] = t end
  members = {}
  for t in string.gmatch(args[5], "[^,]+") do members[#members + 1] = t end
  bare = args[6] == "bare"
end
function request()
  local n = counter * nthreads + tid
  counter = counter + 1
  local m = (n % #machines) + 1
  local start = base + math.floor(n / #machines) * 1800
  local s = os.date("!%Y-%m-%dT%H:%M:%S+00:00", start)
  local e = os.date("!%Y-%m-%dT%H:%M:%S+00:00", start + 1800)
  local body
  local headers = {["Content-Type"] = "application/json"}
  if bare then
    body = string.format('{"machine_id": %s, "member_id": %s, "start": "%s", "end": "%s"}',
                         machines[m], members[(n % #members) + 1], s, e)
  else
    body = string.format('{"machine_id": %s, "start": "%s", "end": "%s"}', machines[m], s, e)
    headers["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1]
  end
  return wrk.format("POST", wrk.path, headers, body)
end
"""

DONE_SCRIPT = r"""
function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d %f %f %f\n",
    summary.requests, summary.duration, errors.connect + errors.read + errors.write + errors.timeout,
    errors.status, summary.bytes, latency.min, latency.max,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def drain(port: int, workers: int) -> None:
    """Wait until the server has answered what wrk left queued when it stopped (sync workers
    keep accepted requests), so the next measurement starts on an idle server."""
    for _ in range(workers * 2):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("GET", "/api/v1/openapi.json")
        conn.getresponse().read()
        conn.close()


def wrk(
    url: str,
    seconds: float,
    connections: int,
    threads: int,
    script: str,
    args: list[str],
    headers: dict[str, str] | None = None,
) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script + DONE_SCRIPT)
        path = f.name
    cmd = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds:.0f}s",
        "--timeout",
        "10s",
        "-s",
        path,
    ]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    cmd += [url, "--", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    os.unlink(path)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    req, duration_us, sock_err, status_err, _bytes, _mn, _mx, p50, p95, p99 = line.split()[1:]
    duration = int(duration_us) / 1e6
    return {
        "requests": int(req),
        "per_second": round(int(req) / duration, 1),
        "socket_errors": int(sock_err),
        "non_2xx": int(status_err),
        "p50_ms": round(float(p50) / 1000, 1),
        "p95_ms": round(float(p95) / 1000, 1),
        "p99_ms": round(float(p99) / 1000, 1),
    }


# --- statements per request ------------------------------------------------------------------


def count_statements(
    url: str, info: dict, targets: dict[str, tuple[str, str, dict, dict | None]]
) -> dict:
    """One request of each kind through the app in-process, counting the SQL statements its
    engine executes (a connection's BEGIN/COMMIT are not cursor executions)."""
    os.environ["DATABASE_URL"] = url
    from api import create_app  # imported late: the app reads DATABASE_URL
    from api.database import runtime
    from factoryshare.config import Settings

    app = create_app(Settings.from_env())
    counts: dict[str, int] = {}
    with app.app_context():
        engine = runtime().engine
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    client = app.test_client()
    for name, (method, path, headers, body) in targets.items():
        if "Cookie" in headers:  # page: sign in with the test client's own cookie jar
            page = client.get("/login").get_data(as_text=True)
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            client.post(
                "/login",
                data={"email": "manajer@example.id", "password": PASSWORD, "csrf_token": csrf},
            )
            headers = {}
        client.open(path, method=method, headers=headers, json=body)  # warm caches once
        if body is not None:  # a POST books the next slot of the same machine, not the same one
            body = {
                **body,
                "start": body["end"],
                "end": (dt.datetime.fromisoformat(body["end"]) + SLOT).isoformat(),
            }
        seen.clear()
        resp = client.open(path, method=method, headers=headers, json=body)
        counts[name] = len(seen)
        if resp.status_code >= 400:
            counts[name + " (status)"] = resp.status_code
    return counts


# --- the run ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--data", choices=("small", "large"), default="small")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit(
            "wrk is not installed: `make bench-api` installs Debian's wrk package as root."
        )
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("The API benchmark runs on PostgreSQL.")

    t = time.perf_counter()
    info = prepare(args.database_url, args.data)
    print(
        f"data set {args.data}: {info['houses']} houses, {info['machine_count']} machines, "
        f"{info['member_count']} members, {info['bookings']} bookings (with the bare app's own house) "
        f"(prepared in {time.perf_counter() - t:.0f} s)",
        flush=True,
    )
    house, first = info["house_id"], info["first"]
    # The week of the data set's bookings (they end where `first` begins).
    week = (first.astimezone(JAKARTA).date() - dt.timedelta(days=1)).isoformat()
    day_after = (first + dt.timedelta(days=1)).isoformat()
    bearer = {"Authorization": f"Bearer {info['manager_token']}"}
    admin = {"Authorization": f"Bearer {info['admin_token']}"}
    member = {"Authorization": f"Bearer {info['tokens'][0]}"}
    # A page by number reaches MAX_PAGE_DEPTH bookings deep at most (factoryshare.paging):
    # the deepest one it answers. Deeper pages go by cursor (benchmarks/deep_page.py).
    deep_page = max(1, min(info["bookings"] // 20 - 5, MAX_PAGE_DEPTH // 20))
    gets = {
        "availability (all machines, one day)": (
            f"/api/v1/houses/{house}/availability?start={urllib.parse.quote(first.isoformat())}"
            f"&end={urllib.parse.quote(day_after)}",
            bearer,
        ),
        "bookings list, page 1 (manager)": ("/api/v1/bookings?page_size=20", bearer),
        f"bookings list, page {deep_page} (admin)": (
            f"/api/v1/bookings?page={deep_page}&page_size=20",
            admin,
        ),
        "timeline page, week (manager)": (
            f"/manager/timeline?house={house}&view=week&day={week}",
            None,
        ),
    }
    targets = {
        "booking POST": (
            "POST",
            "/api/v1/bookings",
            member,
            {
                "machine_id": info["machines"][0],
                "start": (first + dt.timedelta(days=300)).isoformat(),
                "end": (first + dt.timedelta(days=300) + SLOT).isoformat(),
            },
        )
    }
    for name, (path, headers) in gets.items():
        targets[name] = ("GET", path, headers or {"Cookie": "page"}, None)
    statements = count_statements(args.database_url, info, targets)

    fs_port, bare_port = free_port(), free_port()
    fs = gunicorn("api.wsgi:app", ROOT, args.database_url, fs_port, args.workers)
    bare = gunicorn("bare_app:app", ROOT / "benchmarks", args.database_url, bare_port, args.workers)
    cookie = page_cookie(fs_port, "manajer@example.id")
    results: dict[str, list[dict]] = {}
    load_start = os.getloadavg()
    try:
        for r in range(args.repeats):
            # Run r books from block r of every machine's slots, days after the existing data.
            # (From 30 days on: the timeline's week keeps only the 200 bookings of the data set.)
            base = int((first + dt.timedelta(days=30) + r * BLOCK_SLOTS * SLOT).timestamp())
            for label, port, mode, machines in (
                ("bare insert POST", bare_port, "bare", info["bare_machines"]),
                ("booking POST", fs_port, "fs", info["machines"]),
            ):
                res = wrk(
                    f"http://127.0.0.1:{port}{'/bookings' if mode == 'bare' else '/api/v1/bookings'}",
                    args.seconds,
                    args.connections,
                    args.threads,
                    POST_SCRIPT,
                    [
                        str(args.threads),
                        str(base),
                        ",".join(map(str, machines)),
                        ",".join(info["tokens"]),
                        ",".join(map(str, info["bare_members"])),
                        mode,
                    ],
                )
                results.setdefault(label, []).append(res)
                print(f"  round {r + 1} {label}: {res}", flush=True)
                drain(port, args.workers)
            for label, (path, headers) in gets.items():
                res = wrk(
                    f"http://127.0.0.1:{fs_port}{path}",
                    args.seconds,
                    args.connections,
                    args.threads,
                    "",
                    [],
                    headers or {"Cookie": cookie},
                )
                results.setdefault(label, []).append(res)
                print(f"  round {r + 1} {label}: {res}", flush=True)
                drain(fs_port, args.workers)
    finally:
        for proc in (fs, bare):
            proc.terminate()
            proc.wait(timeout=30)
    load_end = os.getloadavg()

    session = make_session_factory(make_engine(args.database_url))()
    overlapping = count_overlapping_live(session)
    session.close()

    bare_rate = statistics.median_high([x["per_second"] for x in results["bare insert POST"]])
    print()
    print(
        f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"gunicorn -w {args.workers} (sync), wrk -t{args.threads} -c{args.connections} "
        f"-d{args.seconds:.0f}s, {args.repeats} rounds, data set {args.data}; load average "
        f"{load_start[0]:.1f} at start, {load_end[0]:.1f} at end; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(
        "| request | ops/s (median of rounds) | p50 ms | p95 ms | p99 ms | non-2xx | statements | ratio to bare insert |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, runs in results.items():
        rate = statistics.median_high([x["per_second"] for x in runs])
        stmts = statements.get(label, 1 if label == "bare insert POST" else "")
        ratio = f"{rate / bare_rate:.2f}" if "POST" in label else ""
        print(
            f"| {label} | {rate} | {statistics.median_high([x['p50_ms'] for x in runs])} | "
            f"{statistics.median_high([x['p95_ms'] for x in runs])} | {statistics.median_high([x['p99_ms'] for x in runs])} | "
            f"{sum(x['non_2xx'] for x in runs)} | {stmts} | {ratio} |"
        )
    print(f"overlapping live bookings afterwards: {overlapping}")
    for name, value in statements.items():
        if name.endswith("(status)"):
            print(f"warning: {name} {value}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"results": results, "statements": statements, "overlapping": overlapping},
                indent=2,
                default=str,
            )
        )


if __name__ == "__main__":
    main()
