"""The attacks of the trust issue, repeated against a real server: gunicorn on PostgreSQL.

    python benchmarks/security_walk.py [--database-url URL] [--workers 2]

It prepares a database (the schema of the URL is dropped, migrated again and the demo data
loaded: never point it at data you want to keep), starts `gunicorn api.wsgi:app` with
Flask-Limiter's storage in Redis (127.0.0.1:6379) and a schedule-run worker, then tries each
attack over HTTP, with many clients at once where the attack is a race, and prints one line
per attack: the request, the answers seen, and whether they are the answers wanted.

Not a test and not a benchmark of speed: it prints what a person would see, and exits 1 when
an answer differs from the one wanted.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from booking_load import free_port, reset_database
from sqlalchemy import text

from factoryshare.db import make_engine, make_session_factory

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fs_walk"
REDIS_URL = "redis://127.0.0.1:6379/3"
ADMIN = ("admin@factoryshare.id", "demo-admin-2026")
MANAGER_GARUT = ("manajer.garut@factoryshare.id", "demo-manajer-2026")
MANAGER_JEMBRANA = ("manajer.jembrana@factoryshare.id", "demo-manajer-2026")
MEMBER_ASEP = ("asep@sukaregangleather.id", "demo-anggota-2026")
MEMBER_KETUT = ("ketut@kakaonusa.id", "demo-anggota-2026")
AGGREGATOR = ("pembiayaan@mitranusantara.coop.id", "demo-agregator-2026")
WIB = dt.timezone(dt.timedelta(hours=7))
DOCUMENT_CAP = 2_500_000


# --- HTTP --------------------------------------------------------------------------------


class Http:
    """One client: a bearer token or a cookie jar, raw bodies allowed."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.port, self.token = port, token
        self.cookies: dict[str, str] = {}

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        sent = {"Content-Type": "application/json"}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = raw
        if form is not None:
            data = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif raw is None and body is not None:
            data = json.dumps(body).encode()
        sent.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        payload = response.read()
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        conn.close()
        try:
            parsed: Any = json.loads(payload) if payload else {}
        except ValueError:
            parsed = payload.decode("utf-8", "replace")
        return response.status, parsed, answer_headers


def sign_in(port: int, who: tuple[str, str]) -> Http:
    status, data, _ = Http(port).call(
        "POST", "/api/v1/auth/token", {"email": who[0], "password": who[1]}
    )
    if status != 201:
        raise SystemExit(f"sign-in of {who[0]} failed: {status} {data}")
    return Http(port, data["token"])


def code_of(status: int, data: Any) -> str:
    code = data.get("code") if isinstance(data, dict) else None
    return f"{status} {code}" if code else str(status)


def at_once(calls: list[Any]) -> list[Any]:
    """Run the callables in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # a transport error is an answer too
            results[i] = (599, {"code": type(exc).__name__}, {})

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


# --- the walk ----------------------------------------------------------------------------


class Walk:
    def __init__(self, port: int, url: str) -> None:
        self.port, self.url = port, url
        self.engine = make_engine(url)
        self.failures = 0

    def report(self, attack: str, request: str, seen: str, ok: bool) -> None:
        self.failures += 0 if ok else 1
        print(f"[{'ok' if ok else 'NOT MET'}] {attack}\n    {request}\n    -> {seen}")

    def sql(self, query: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(query), params).all()

    def first_id(self, query: str, **params: Any) -> int:
        rows = self.sql(query, **params)
        if not rows:
            raise SystemExit(f"no row for: {query}")
        return rows[0][0]


def tally(results: list[Any]) -> str:
    counts = collections.Counter(code_of(s, d) for s, d, _ in results)
    return ", ".join(f"{n}× {c}" for c, n in sorted(counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("WALK_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    url = args.database_url
    prepare(url)
    port = free_port()
    server, worker = start(url, port, args.workers)
    try:
        walk = Walk(port, url)
        for attack in ATTACKS:
            attack(walk)
    finally:
        for proc in (server, worker):
            proc.terminate()
            proc.wait(timeout=20)
    print(f"\n{len(ATTACKS)} attack groups, {walk.failures} answers not as wanted")
    sys.exit(1 if walk.failures else 0)


def prepare(url: str) -> None:
    reset_database(url)
    from fixtures.demo import load_demo

    session = make_session_factory(make_engine(url))()
    load_demo(session)
    session.commit()
    session.close()


def start(url: str, port: int, workers: int) -> tuple[subprocess.Popen, subprocess.Popen]:
    env = dict(
        os.environ,
        DATABASE_URL=url,
        FACTORYSHARE_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        FACTORYSHARE_LOG_LEVEL="WARNING",
        RATELIMIT_STORAGE_URI=REDIS_URL,
        PERMIT_DOCUMENTS_MAX_BYTES_PER_MEMBER=str(DOCUMENT_CAP),
        PYTHONPATH=str(ROOT),
    )  # the code of this tree, whatever the venv installed
    subprocess.run(["redis-cli", "-n", "3", "FLUSHDB"], check=False, capture_output=True)
    bin_dir = Path(sys.executable).parent
    server = subprocess.Popen(
        [
            str(bin_dir / "gunicorn"),
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
    worker = subprocess.Popen(
        [str(bin_dir / "factoryshare"), "worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )
    for _ in range(300):
        try:
            if Http(port).call("GET", "/api/v1/openapi.json")[0] == 200:
                return server, worker
        except OSError:
            pass
        time.sleep(0.1)
    server.kill()
    worker.kill()
    raise SystemExit("gunicorn did not start")


ATTACKS: list[Any] = []


def attack(fn: Any) -> Any:
    ATTACKS.append(fn)
    return fn


def _next_working_day(days_ahead: int) -> dt.date:
    from factoryshare.services import calendar

    day = dt.datetime.now(WIB).date() + dt.timedelta(days=days_ahead)
    while day.weekday() >= 5 or calendar.holiday_name(day) is not None:
        day += dt.timedelta(days=1)
    return day


def _slot(day: dt.date, hour: int, minute: int = 0, minutes: int = 30) -> dict[str, str]:
    start = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=WIB)
    return {"start": start.isoformat(), "end": (start + dt.timedelta(minutes=minutes)).isoformat()}


def _garut(walk: Walk) -> int:
    return walk.first_id(
        "SELECT id FROM production_houses WHERE timezone = 'Asia/Jakarta' ORDER BY id"
    )


def _machine(walk: Walk, house_id: int, capability: str) -> int:
    return walk.first_id(
        "SELECT m.id FROM machines m JOIN machine_capabilities mc ON mc.machine_id = m.id "
        "JOIN capabilities c ON c.id = mc.capability_id WHERE m.house_id = :h AND c.code = :c "
        "AND m.status = 'active' ORDER BY m.id",
        h=house_id,
        c=capability,
    )


# --- consent and scope -------------------------------------------------------------------


@attack
def aggregator_lists_a_member_without_consent(walk: Walk) -> None:
    garut = _garut(walk)
    outsider = walk.first_id(
        "SELECT id FROM members WHERE house_id = :h AND id NOT IN "
        "(SELECT member_id FROM cluster_members) ORDER BY id",
        h=garut,
    )
    agg = sign_in(walk.port, AGGREGATOR)
    status, cluster, _ = agg.call(
        "POST",
        "/api/v1/clusters",
        {
            "name": "Klaster Uji Persetujuan",
            "sector": "craft",
            "house_id": garut,
            "member_ids": [outsider],
        },
    )
    seen = [code_of(status, cluster)]
    invited = cluster.get("invited", []) if isinstance(cluster, dict) else []
    fields = sorted(invited[0]) if invited else []
    reads = {path: code_of(*agg.call("GET", path)[:2]) for path in (f"/api/v1/members/{outsider}",)}
    listed = {
        path: agg.call("GET", path)[1]
        for path in (
            f"/api/v1/bookings?member_id={outsider}",
            f"/api/v1/products?member_id={outsider}",
            f"/api/v1/permits?member_id={outsider}",
        )
    }
    leaked = {p: len(d.get("items", [])) if isinstance(d, dict) else d for p, d in listed.items()}
    ok = (
        status == 201
        and cluster.get("member_ids") == []
        and len(invited) == 1
        and "phone" not in fields
        and "email" not in fields
        and reads[f"/api/v1/members/{outsider}"].startswith("404")
        and all(n == 0 or (isinstance(n, str)) for n in leaked.values())
    )
    walk.report(
        "An aggregator puts a member into its cluster without the member's consent",
        f"POST /api/v1/clusters member_ids=[{outsider}] as the aggregator, then GET the "
        "member, its bookings, products and permits",
        f"{seen[0]}, member_ids {cluster.get('member_ids')}, invited with fields {fields}; "
        f"GET member {reads}; listed items {leaked}",
        ok,
    )

    # The member's house manager accepts on the member's behalf, with a reason.
    manager = sign_in(walk.port, MANAGER_GARUT)
    invitation = invited[0]["invitation_id"] if invited else 0
    no_reason = manager.call("POST", f"/api/v1/cluster-invitations/{invitation}/accept", {})
    accepted = manager.call(
        "POST",
        f"/api/v1/cluster-invitations/{invitation}/accept",
        {"reason": "Pemilik menyetujui lewat telepon, 1 Des"},
    )
    after = agg.call("GET", f"/api/v1/members/{outsider}")
    walk.report(
        "The house manager accepts an invitation on the member's behalf",
        f"POST /api/v1/cluster-invitations/{invitation}/accept without and with a reason",
        f"without: {code_of(*no_reason[:2])}; with: {code_of(*accepted[:2])}; "
        f"the aggregator's GET member then: {code_of(*after[:2])}",
        no_reason[0] == 422 and accepted[0] == 200 and after[0] == 200,
    )


@attack
def members_see_only_their_own_purchases(walk: Walk) -> None:
    asep_member = walk.first_id("SELECT member_id FROM users WHERE email = :e", e=MEMBER_ASEP[0])
    cluster = walk.first_id(
        "SELECT cluster_id FROM cluster_members WHERE member_id = :m", m=asep_member
    )
    other_product = walk.first_id(
        "SELECT p.id FROM products p JOIN cluster_members cm ON cm.member_id = p.member_id "
        "WHERE cm.cluster_id = :c AND p.member_id <> :m ORDER BY p.id",
        c=cluster,
        m=asep_member,
    )
    agg = sign_in(walk.port, AGGREGATOR)
    today = dt.datetime.now(WIB).date()
    status, agreement, _ = agg.call(
        "POST",
        "/api/v1/offtake-agreements",
        {
            "cluster_id": cluster,
            "product_id": other_product,
            "quantity": 100,
            "unit_price": 85_000,
            "deliveries": [
                {"due_on": (today + dt.timedelta(days=30)).isoformat(), "quantity": 100}
            ],
        },
    )
    if status != 201:
        raise SystemExit(f"agreement refused: {status} {agreement}")
    bought = agg.call(
        "POST",
        f"/api/v1/offtake-agreements/{agreement['id']}/purchases",
        {"delivered_on": today.isoformat(), "quantity": 40},
    )
    asep = sign_in(walk.port, MEMBER_ASEP)
    status, data, _ = asep.call("GET", f"/api/v1/offtake-agreements/{agreement['id']}/purchases")
    items = data.get("items", data) if isinstance(data, dict) else data
    shown = len(items) if isinstance(items, list) else 0
    walk.report(
        "A cluster member reads another member's offtake purchase figures",
        f"the aggregator records a purchase ({code_of(*bought[:2])}) under agreement "
        f"{agreement['id']} for another member's product; GET its purchases as {MEMBER_ASEP[0]}",
        f"{code_of(status, data)}, {shown} purchase(s) shown",
        bought[0] == 201 and (status == 404 or shown == 0),
    )


@attack
def managers_read_their_houses_audit_events(walk: Walk) -> None:
    garut = _garut(walk)
    manager = sign_in(walk.port, MANAGER_GARUT)
    status, data, _ = manager.call("GET", "/api/v1/audit?page_size=100")
    items = data.get("items", []) if isinstance(data, dict) else []
    foreign = [e for e in items if e.get("house_id") not in (None, garut)]
    walk.report(
        "A manager reads the audit events of its house",
        "GET /api/v1/audit as the Garut manager",
        f"{status}, {len(items)} events, {len(foreign)} of other houses",
        status == 200 and len(items) > 0 and not foreign,
    )


# --- state changes under concurrency -----------------------------------------------------


@attack
def approve_and_reject_one_application_at_once(walk: Walk) -> None:
    app_id = walk.first_id(
        "SELECT id FROM loan_applications WHERE status = 'submitted' ORDER BY id"
    )
    agg = sign_in(walk.port, AGGREGATOR)
    results = at_once(
        [
            lambda: agg.call("POST", f"/api/v1/loan-applications/{app_id}/approve", {}),
            lambda: agg.call(
                "POST",
                f"/api/v1/loan-applications/{app_id}/reject",
                {"reason": "Dokumen belum lengkap"},
            ),
        ]
    )
    final = walk.sql("SELECT status FROM loan_applications WHERE id = :i", i=app_id)[0][0]
    decisions = walk.first_id(
        "SELECT count(*) FROM audit_events WHERE object_type = 'loan_applications' "
        "AND object_id = CAST(:i AS VARCHAR) AND (action LIKE '%approve%' OR action LIKE '%reject%')",
        i=app_id,
    )
    statuses = sorted(s for s, _, _ in results)
    walk.report(
        "Approve and reject one loan application at the same moment",
        f"POST /loan-applications/{app_id}/approve and /reject at once",
        f"{tally(results)}; status now {final}; {decisions} decision event(s)",
        statuses == [200, 409] and decisions == 1,
    )


def _solved_run(walk: Walk) -> int:
    garut = _garut(walk)
    asep = sign_in(walk.port, MEMBER_ASEP)
    member = walk.first_id("SELECT member_id FROM users WHERE email = :e", e=MEMBER_ASEP[0])
    product = walk.first_id("SELECT id FROM products WHERE member_id = :m ORDER BY id", m=member)
    day = _next_working_day(3)
    start = dt.datetime.combine(day, dt.time(8), tzinfo=WIB)
    for quantity in (5, 8):
        status, data, _ = asep.call(
            "POST",
            "/api/v1/production-requests",
            {
                "product_id": product,
                "quantity": quantity,
                "earliest_start": start.isoformat(),
                "due": (start + dt.timedelta(days=10)).isoformat(),
            },
        )
        if status != 201:
            raise SystemExit(f"production request refused: {status} {data}")
    manager = sign_in(walk.port, MANAGER_GARUT)
    status, run, _ = manager.call(
        "POST",
        f"/api/v1/houses/{garut}/schedule-runs",
        {
            "horizon_start": start.isoformat(),
            "horizon_end": (start + dt.timedelta(days=14)).isoformat(),
            "time_limit_seconds": 3,
        },
    )
    if status not in (201, 202):
        raise SystemExit(f"schedule run refused: {status} {run}")
    for _ in range(600):
        status, run, _ = manager.call("GET", f"/api/v1/schedule-runs/{run['id']}")
        if run.get("status") not in ("queued", "running"):
            return run["id"]
        time.sleep(0.2)
    raise SystemExit("the worker did not solve the run")


@attack
def publish_and_discard_one_run_at_once(walk: Walk) -> None:
    run_id = _solved_run(walk)
    before = walk.first_id("SELECT count(*) FROM bookings WHERE source = 'solver'")
    manager = sign_in(walk.port, MANAGER_GARUT)
    results = at_once(
        [
            lambda: manager.call("POST", f"/api/v1/schedule-runs/{run_id}/publish"),
            lambda: manager.call("POST", f"/api/v1/schedule-runs/{run_id}/discard"),
        ]
    )
    final = walk.sql("SELECT status FROM schedule_runs WHERE id = :i", i=run_id)[0][0]
    created = walk.first_id("SELECT count(*) FROM bookings WHERE source = 'solver'") - before
    statuses = sorted(s for s, _, _ in results)
    ok = statuses == [200, 409] and ((final == "published") == (created > 0))
    walk.report(
        "Publish and discard one schedule run at the same moment",
        f"POST /schedule-runs/{run_id}/publish and /discard at once",
        f"{tally(results)}; run now {final}; {created} solver bookings created",
        ok,
    )


@attack
def move_cancel_and_confirm_one_booking_at_once(walk: Walk) -> None:
    garut = _garut(walk)
    machine = _machine(walk, garut, "sewing")
    asep = sign_in(walk.port, MEMBER_ASEP)
    manager = sign_in(walk.port, MANAGER_GARUT)
    day = _next_working_day(5)
    seen: collections.Counter[str] = collections.Counter()
    wrong = 0
    for round_ in range(5):
        status, booking, _ = asep.call(
            "POST", "/api/v1/bookings", {"machine_id": machine, **_slot(day, 8 + round_, 0, 60)}
        )
        if status != 201:
            raise SystemExit(f"booking refused: {status} {booking}")
        path = f"/api/v1/bookings/{booking['id']}"
        calls = []
        for k in range(3):
            moved_to = _slot(day + dt.timedelta(days=7 * (k + 1)), 8 + round_, 0, 60)
            calls.append(lambda body=moved_to, path=path: asep.call("PATCH", path, body))
            calls.append(lambda path=path: asep.call("POST", f"{path}/cancel", {}))
            calls.append(lambda path=path: manager.call("POST", f"{path}/confirm"))
        results = at_once(calls)
        for (status, data, _), kind in zip(results, ["move", "cancel", "confirm"] * 3):
            seen[f"{kind} {code_of(status, data)}"] += 1
        cancels = sum(
            1
            for (s, _, _), kind in zip(results, ["move", "cancel", "confirm"] * 3)
            if kind == "cancel" and s == 200
        )
        confirms = sum(
            1
            for (s, _, _), kind in zip(results, ["move", "cancel", "confirm"] * 3)
            if kind == "confirm" and s == 200
        )
        if any(s >= 500 for s, _, _ in results) or cancels != 1 or confirms > 1:
            wrong += 1
    walk.report(
        "Move, cancel and confirm one booking at the same moment (5 bookings, 9 requests each)",
        "PATCH /bookings/{id} ×3, POST /bookings/{id}/cancel ×3, POST /bookings/{id}/confirm ×3 at once",
        ", ".join(f"{n}× {k}" for k, n in sorted(seen.items()))
        + f"; rounds with a 5xx, not exactly one cancel or two confirms: {wrong}",
        wrong == 0,
    )


@attack
def twelve_parallel_bookings_against_a_two_hour_quota(walk: Walk) -> None:
    garut = _garut(walk)
    manager = sign_in(walk.port, MANAGER_GARUT)
    status, data, _ = manager.call(
        "PUT",
        f"/api/v1/houses/{garut}/quotas",
        {"quotas": [{"capability": "sewing", "hours_per_week": 2}]},
    )
    if status != 200:
        raise SystemExit(f"quota refused: {status} {data}")
    machines = [
        r[0]
        for r in walk.sql(
            "SELECT m.id FROM machines m JOIN machine_capabilities mc ON mc.machine_id = m.id "
            "JOIN capabilities c ON c.id = mc.capability_id WHERE m.house_id = :h AND c.code = 'sewing' "
            "AND m.status = 'active' ORDER BY m.id",
            h=garut,
        )
    ]
    asep = sign_in(walk.port, MEMBER_ASEP)
    day = _next_working_day(22)
    calls = [
        lambda i=i: asep.call(
            "POST",
            "/api/v1/bookings",
            {"machine_id": machines[i % len(machines)], **_slot(day, 9 + i // 2, 30 * (i % 2), 30)},
        )
        for i in range(12)
    ]
    results = at_once(calls)
    booked = sum(30 for s, _, _ in results if s == 201)
    walk.report(
        "Twelve parallel half-hour bookings of one member against a 2 h weekly quota",
        f"PUT /houses/{garut}/quotas sewing 2 h; 12 × POST /bookings at once, same week",
        f"{tally(results)}; {booked / 60:g} h booked",
        booked <= 120 and all(s in (201, 409) for s, _, _ in results),
    )
    manager.call("PUT", f"/api/v1/houses/{garut}/quotas", {"quotas": []})


# --- sign-in -----------------------------------------------------------------------------


@attack
def twelve_parallel_wrong_passwords(walk: Walk) -> None:
    email = MANAGER_JEMBRANA[0]
    calls = [
        lambda i=i: Http(walk.port).call(
            "POST", "/api/v1/auth/token", {"email": email, "password": f"tebak-{i}"}
        )
        for i in range(12)
    ]
    results = at_once(calls)
    checked = sum(1 for s, _, _ in results if s == 401)
    walk.report(
        "Twelve parallel wrong passwords for one account",
        f"12 × POST /api/v1/auth/token {email} at once",
        f"{tally(results)}; passwords checked before the lock: {checked}",
        checked <= 5 and all(s in (401, 423, 429) for s, _, _ in results),
    )


@attack
def unknown_and_known_addresses_answer_alike(walk: Walk) -> None:
    known = Http(walk.port).call(
        "POST", "/api/v1/auth/token", {"email": AGGREGATOR[0], "password": "salah"}
    )
    unknown = Http(walk.port).call(
        "POST", "/api/v1/auth/token", {"email": "tidak.ada@factoryshare.id", "password": "salah"}
    )
    walk.report(
        "A wrong password for a known and for an unknown address",
        f"POST /api/v1/auth/token for {AGGREGATOR[0]} and for tidak.ada@…",
        f"known: {known[0]} {known[1]}; unknown: {unknown[0]} {unknown[1]}",
        known[0] == unknown[0] and known[1] == unknown[1],
    )


@attack
def sign_in_rate_limit_across_workers(walk: Walk) -> None:
    email = "tidak.ada.2@factoryshare.id"
    results = [
        Http(walk.port).call("POST", "/api/v1/auth/token", {"email": email, "password": "x"})
        for _ in range(12)
    ]
    limited = [r for r in results if r[0] == 429]
    retry = limited[0][2].get("retry-after") if limited else None
    walk.report(
        "Twelve sign-ins for one address in a minute (limit 10, two gunicorn workers, Redis)",
        f"12 × POST /api/v1/auth/token {email}, one after another",
        f"{tally(results)}; Retry-After {retry}",
        len(limited) == 2 and retry is not None,
    )


# --- sessions and browsers ---------------------------------------------------------------


def _browser_sign_in(walk: Walk, who: tuple[str, str]) -> Http:
    browser = Http(walk.port)
    _, page, _ = browser.call("GET", "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    status, _, _ = browser.call(
        "POST", "/login", form={"csrf_token": token, "email": who[0], "password": who[1]}
    )
    if status != 302:
        raise SystemExit(f"page sign-in failed: {status}")
    return browser


@attack
def a_signed_out_cookie_is_dead(walk: Walk) -> None:
    browser = _browser_sign_in(walk, MEMBER_ASEP)
    before = browser.call("GET", "/api/v1/auth/me")[0]
    saved = dict(browser.cookies)
    _, _, headers = browser.call("GET", "/")
    _, home, _ = browser.call(
        "GET", headers.get("location", "/home").replace(f"http://127.0.0.1:{walk.port}", "")
    )
    match = re.search(r'name="csrf_token" value="([^"]+)"', home if isinstance(home, str) else "")
    browser.call("POST", "/logout", form={"csrf_token": match.group(1) if match else ""})
    replay = Http(walk.port)
    replay.cookies = saved
    after = replay.call("GET", "/api/v1/auth/me")
    walk.report(
        "The session cookie after signing out",
        "page sign-in, GET /api/v1/auth/me, sign out, GET /api/v1/auth/me with the old cookie",
        f"before: {before}; after: {code_of(*after[:2])}",
        before == 200 and after[0] == 401,
    )


@attack
def a_cookie_without_csrf_token_cannot_cancel(walk: Walk) -> None:
    garut = _garut(walk)
    machine = _machine(walk, garut, "sewing")
    asep = sign_in(walk.port, MEMBER_ASEP)
    status, booking, _ = asep.call(
        "POST", "/api/v1/bookings", {"machine_id": machine, **_slot(_next_working_day(9), 14)}
    )
    if status != 201:
        raise SystemExit(f"booking refused: {status} {booking}")
    browser = _browser_sign_in(walk, MEMBER_ASEP)
    forged = browser.call(
        "POST",
        f"/api/v1/bookings/{booking['id']}/cancel",
        raw=b"{}",
        headers={"Content-Type": "text/plain", "Origin": "https://evil.example"},
    )
    json_forged = browser.call("POST", f"/api/v1/bookings/{booking['id']}/cancel", {})
    state = walk.sql("SELECT status FROM bookings WHERE id = :i", i=booking["id"])[0][0]
    walk.report(
        "Another site posts with the member's cookie (no CSRF token)",
        f"POST /api/v1/bookings/{booking['id']}/cancel with the cookie, text/plain, "
        "Origin evil.example; and as JSON",
        f"text/plain: {code_of(*forged[:2])}; JSON: {code_of(*json_forged[:2])}; booking {state}",
        forged[0] == 403 and json_forged[0] == 403 and state in ("held", "confirmed"),
    )


@attack
def security_headers_on_every_answer(walk: Walk) -> None:
    wanted = (
        "content-security-policy",
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
        "strict-transport-security",
    )
    seen = {}
    for path in ("/api/v1/houses", "/login", "/api/v1/nowhere", "/static/app.css"):
        headers = Http(walk.port).call("GET", path)[2]
        seen[path] = [h for h in wanted if h not in headers]
    csp = Http(walk.port).call("GET", "/login")[2].get("content-security-policy")
    walk.report(
        "Security headers (production settings)",
        "GET an API list, the sign-in page, a 404 and a stylesheet",
        f"missing per answer: {seen}; CSP: {csp}",
        all(not missing for missing in seen.values()),
    )


# --- hostile input -----------------------------------------------------------------------


@attack
def hostile_bodies_get_a_4xx_naming_the_field(walk: Walk) -> None:
    garut = _garut(walk)
    machine = _machine(walk, garut, "sewing")
    asep = sign_in(walk.port, MEMBER_ASEP)
    admin = sign_in(walk.port, ADMIN)
    slot = _slot(_next_working_day(12), 10)
    base = json.dumps({"machine_id": machine, **slot})[:-1]
    bodies = {
        "lone surrogate in note": (
            asep,
            "/api/v1/bookings",
            (base + ', "note": "a\\ud800b"}').encode(),
        ),
        "NUL in note": (asep, "/api/v1/bookings", (base + ', "note": "a\\u0000b"}').encode()),
        "5,000-digit machine_id": (
            asep,
            "/api/v1/bookings",
            json.dumps(slot)[:-1].encode() + b', "machine_id": ' + b"9" * 5000 + b"}",
        ),
        "2**63 machine_id": (
            asep,
            "/api/v1/bookings",
            json.dumps({**slot, "machine_id": 2**63}).encode(),
        ),
        "100,000 nested brackets": (asep, "/api/v1/bookings", b"[" * 100_000 + b"]" * 100_000),
        "invalid UTF-8": (asep, "/api/v1/bookings", b'{"note": "\xff\xfe"}'),
        "lone surrogate in a member's name": (
            admin,
            "/api/v1/members",
            b'{"business_name": "UD \\udfff"}',
        ),
        "lone surrogate in a sign-in address": (
            Http(walk.port),
            "/api/v1/auth/token",
            b'{"email": "a\\ud800@x.id", "password": "x"}',
        ),
        "amount beyond 64 bits": (
            sign_in(walk.port, AGGREGATOR),
            "/api/v1/loan-applications",
            json.dumps({"cluster_id": 1, "requested_amount": 2**64, "tenor_months": 12}).encode(),
        ),
    }
    before = walk.first_id("SELECT count(*) FROM bookings")
    lines, ok = [], True
    for name, (client, path, raw) in bodies.items():
        status, data, _ = client.call("POST", path, raw=raw)
        fields = sorted((data.get("errors") or {}).keys()) if isinstance(data, dict) else []
        lines.append(f"{name}: {code_of(status, data)} {fields}")
        ok &= 400 <= status < 500 and isinstance(data, dict) and "code" in data
    after = walk.first_id("SELECT count(*) FROM bookings")
    walk.report(
        "Hostile bodies",
        "POST with each body below",
        "; ".join(lines) + f"; bookings written: {after - before}",
        ok and after == before,
    )


# --- permit documents --------------------------------------------------------------------


def _multipart(field: str, filename: str, content: bytes, mime: str) -> tuple[bytes, str]:
    boundary = secrets.token_hex(12)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{filename}"\r\nContent-Type: {mime}\r\n\r\n'
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@attack
def permit_documents_live_in_the_database_under_a_cap(walk: Walk) -> None:
    member = walk.first_id("SELECT member_id FROM users WHERE email = :e", e=MEMBER_KETUT[0])
    permits = [
        r[0] for r in walk.sql("SELECT id FROM permits WHERE member_id = :m ORDER BY id", m=member)
    ]
    if len(permits) < 2:
        raise SystemExit("the demo member needs two permits")
    ketut = sign_in(walk.port, MEMBER_KETUT)
    pdf = b"%PDF-1.4\n" + os.urandom(1_500_000) + b"\n%%EOF\n"

    def upload(permit: int) -> Any:
        body, mime = _multipart("document", "izin.pdf", pdf, "application/pdf")
        return ketut.call(
            "POST", f"/api/v1/permits/{permit}/document", raw=body, headers={"Content-Type": mime}
        )

    # The server runs with a cap of DOCUMENT_CAP bytes a member: one 1.5 MB file fits, a
    # second does not; replacing a document frees the old bytes.
    replaced = [upload(permits[0]) for _ in range(3)]
    rows_after_replacing = walk.first_id("SELECT count(*) FROM permit_document_contents")
    third = upload(permits[1])
    download = ketut.call("GET", f"/api/v1/permits/{permits[0]}/document")
    walk.report(
        f"Permit documents in the database, {DOCUMENT_CAP:,} bytes a member",
        f"3 × POST /permits/{permits[0]}/document (1.5 MB PDF), one to /permits/{permits[1]}, "
        "then GET the first",
        f"replacing: {tally(replaced)}, {rows_after_replacing} content row(s); second "
        f"document: {code_of(*third[:2])} "
        f"{third[1].get('details') if isinstance(third[1], dict) else ''}; download "
        f"{download[0]} {download[2].get('content-type')}",
        all(a[0] in (200, 201) for a in replaced)
        and rows_after_replacing == 1
        and third[0] == 413
        and download[0] == 200,
    )


if __name__ == "__main__":
    main()
