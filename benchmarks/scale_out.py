"""Scale-out check: two app instances, two schedule-run workers and two job schedulers sharing
one PostgreSQL database (and one Redis for the sign-in limits), driven together for a bounded
time, then checked:

- 0 overlapping live bookings, though the clients race for a small set of slots through both
  instances;
- every schedule run solved exactly once (one claim, `attempts == 1`), though two workers poll;
- every job run at most once per interval between the two schedulers;
- every permit document uploaded through one instance reads back byte for byte through the other.

    python benchmarks/scale_out.py --seconds 150

On several hosts it is the same: start `gunicorn api.wsgi:app`, `factoryshare worker` and
`factoryshare scheduler` on each host with the same DATABASE_URL, SECRET_KEY and
RATELIMIT_STORAGE_URI (README, "Running on several hosts"); this script starts them all here on
two ports. The benchmark database is dropped and loaded with the demo data again: never point
it at data you want to keep. A check, not a test: it prints what it saw and exits 1 on a
violation.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import http.client
import json
import os
import random
import secrets
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from booking_load import free_port, reset_database

from factoryshare.db import make_engine, make_session_factory
from factoryshare.jobs.runner import INTERVAL_SLACK
from factoryshare.jobs.scheduler import once_per
from factoryshare.services.bookings import count_overlapping_live

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fs_scaleout"
JAKARTA = dt.timezone(dt.timedelta(hours=7))
# Demo accounts (README "Demo accounts").
MEMBERS = [("asep@sukaregangleather.id", "demo-anggota-2026")]
# A member who holds permits in the demo data: uploads and reads his documents.
PERMIT_HOLDER = ("ketut@kakaonusa.id", "demo-anggota-2026")
MANAGER = ("manajer.garut@factoryshare.id", "demo-manajer-2026")
# A tiny valid PNG: the document check sniffs the content.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def call(
    port: int,
    method: str,
    path: str,
    token: str | None = None,
    body: dict | None = None,
    raw: bytes | None = None,
    content_type: str | None = None,
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        raw, content_type = json.dumps(body).encode(), "application/json"
    if content_type:
        headers["Content-Type"] = content_type
    conn.request(method, path, body=raw, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def token_for(port: int, email: str, password: str) -> str:
    status, data = call(
        port, "POST", "/api/v1/auth/token", body={"email": email, "password": password}
    )
    if status not in (200, 201):
        raise SystemExit(f"sign-in of {email} failed: {status} {data[:200]!r}")
    return json.loads(data)["token"]


def start_all(url: str, ports: list[int], logs: Path) -> list[subprocess.Popen]:
    env = dict(
        os.environ,
        DATABASE_URL=url,
        FACTORYSHARE_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        FACTORYSHARE_LOG_LEVEL="INFO",
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379",
        PYTHONPATH=str(ROOT),
        RATELIMIT_KEY_PREFIX=f"scaleout-{uuid.uuid4().hex[:8]}",
    )
    bin_dir = Path(sys.executable).parent
    procs = []
    for i, port in enumerate(ports):
        for name, cmd in (
            (
                f"web{i}",
                [
                    str(bin_dir / "gunicorn"),
                    "-w",
                    "2",
                    "-b",
                    f"127.0.0.1:{port}",
                    "--log-level",
                    "warning",
                    "api.wsgi:app",
                ],
            ),
            (f"worker{i}", [str(bin_dir / "factoryshare"), "worker"]),
            (f"scheduler{i}", [str(bin_dir / "factoryshare"), "scheduler"]),
        ):
            out = open(logs / f"{name}.log", "w")  # noqa: SIM115 (open for the process's life)
            procs.append(
                subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            )
    for port in ports:
        for _ in range(300):
            try:
                if call(port, "GET", "/api/v1/openapi.json")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            # Stop what did start (the workers and schedulers would otherwise outlive the check).
            for proc in procs:
                proc.kill()
            raise SystemExit(f"instance on {port} did not start")
    return procs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seconds", type=float, default=150)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("The scale-out check runs on PostgreSQL.")

    reset_database(args.database_url)
    env = dict(os.environ, DATABASE_URL=args.database_url, PYTHONPATH=str(ROOT))
    subprocess.run(
        [str(Path(sys.executable).parent / "factoryshare"), "load-demo"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    session = make_session_factory(make_engine(args.database_url))()
    house_id, machine_ids = None, []
    for row in session.execute(
        text(
            "SELECT h.id, m.id FROM production_houses h JOIN machines m ON m.house_id = h.id "
            "JOIN members mb ON mb.house_id = h.id JOIN users u ON u.member_id = mb.id "
            "WHERE u.email = :e AND m.status = 'active' ORDER BY m.id"
        ),
        {"e": MEMBERS[0][0]},
    ):
        house_id = row[0]
        machine_ids.append(row[1])
    permit_ids = list(
        session.scalars(
            text(
                "SELECT p.id FROM permits p JOIN users u ON u.member_id = p.member_id "
                "WHERE u.email = :e ORDER BY p.id"
            ),
            {"e": PERMIT_HOLDER[0]},
        )
    )
    session.close()

    ports = [free_port(), free_port()]
    logs = Path(os.environ.get("TMPDIR", "/tmp")) / f"scale_out_{os.getpid()}"
    logs.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    procs = start_all(args.database_url, ports, logs)
    outcomes: collections.Counter[str] = collections.Counter()
    run_ids: list[int] = []
    documents: list[tuple[int, int, int, bool]] = []
    lock = threading.Lock()
    try:
        member_token = token_for(ports[0], *MEMBERS[0])
        manager_token = token_for(ports[1], *MANAGER)
        holder_token = token_for(ports[1], *PERMIT_HOLDER)
        until = time.perf_counter() + args.seconds
        # Next weekday 09:00-12:00 house time, six 30-minute slots per machine: a small space,
        # so the clients collide on purpose.
        day = dt.datetime.now(JAKARTA).date() + dt.timedelta(days=2)
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        first = dt.datetime.combine(day, dt.time(9), JAKARTA)

        def booker(seed: int) -> None:
            rng = random.Random(seed)
            mine: list[tuple[int, int]] = []
            while time.perf_counter() < until:
                port = ports[rng.randrange(2)]
                if mine and rng.random() < 0.3:
                    booking_id, _ = mine.pop(rng.randrange(len(mine)))
                    status, _ = call(
                        port,
                        "POST",
                        f"/api/v1/bookings/{booking_id}/cancel",
                        member_token,
                        {"reason": "scale-out check"},
                    )
                    op = "cancel"
                else:
                    start = first + dt.timedelta(minutes=30 * rng.randrange(6))
                    status, data = call(
                        port,
                        "POST",
                        "/api/v1/bookings",
                        member_token,
                        {
                            "machine_id": rng.choice(machine_ids),
                            "start": start.isoformat(),
                            "end": (start + dt.timedelta(minutes=30)).isoformat(),
                        },
                    )
                    op = "book"
                    if status == 201:
                        mine.append((json.loads(data)["id"], port))
                with lock:
                    outcomes[f"{op} {status}"] += 1

        def planner() -> None:
            i = 0
            while time.perf_counter() < until - 20:
                port = ports[i % 2]
                i += 1
                horizon = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
                status, data = call(
                    port,
                    "POST",
                    f"/api/v1/houses/{house_id}/schedule-runs",
                    manager_token,
                    {
                        "horizon_start": horizon.isoformat(),
                        "horizon_end": (horizon + dt.timedelta(days=7)).isoformat(),
                        "time_limit_seconds": 2,
                    },
                )
                with lock:
                    outcomes[f"schedule run {status}"] += 1
                    if status in (201, 202):
                        run_ids.append(json.loads(data)["id"])
                time.sleep(8)

        def uploader() -> None:
            i = 0
            while time.perf_counter() < until and permit_ids:
                up, down = ports[i % 2], ports[(i + 1) % 2]
                permit_id = permit_ids[i % len(permit_ids)]
                content = PNG + secrets.token_bytes(16)  # trailing bytes make each file unique
                boundary = uuid.uuid4().hex
                raw = (
                    (
                        f'--{boundary}\r\nContent-Disposition: form-data; name="document"; '
                        f'filename="izin-{i}.png"\r\nContent-Type: image/png\r\n\r\n'
                    ).encode()
                    + content
                    + f"\r\n--{boundary}--\r\n".encode()
                )
                status, _ = call(
                    up,
                    "POST",
                    f"/api/v1/permits/{permit_id}/document",
                    holder_token,
                    raw=raw,
                    content_type=f"multipart/form-data; boundary={boundary}",
                )
                if status == 200:
                    got_status, got = call(
                        down, "GET", f"/api/v1/permits/{permit_id}/document", holder_token
                    )
                    with lock:
                        documents.append(
                            (permit_id, up, down, got_status == 200 and got == content)
                        )
                with lock:
                    outcomes[f"document upload {status}"] += 1
                i += 1
                time.sleep(3)

        threads = [threading.Thread(target=booker, args=(s,)) for s in range(args.clients)]
        threads += [threading.Thread(target=planner), threading.Thread(target=uploader)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Let the workers finish what is queued.
        session = make_session_factory(make_engine(args.database_url))()
        for _ in range(120):
            left = session.scalar(
                text("SELECT count(*) FROM schedule_runs WHERE status IN ('queued', 'running')")
            )
            session.commit()
            if not left:
                break
            time.sleep(1)
        session.close()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    ended = dt.datetime.now(dt.UTC)

    session = make_session_factory(make_engine(args.database_url))()
    overlapping = count_overlapping_live(session)
    runs = session.execute(
        text(
            "SELECT id, status, attempts, worker_id FROM schedule_runs WHERE id = ANY(:ids) ORDER BY id"
        ),
        {"ids": run_ids},
    ).all()
    job_runs = session.execute(
        text(
            "SELECT job, started_at, host FROM job_runs WHERE started_at >= :s ORDER BY job, started_at"
        ),
        {"s": started},
    ).all()
    session.close()

    failures = []
    print(
        f"{os.cpu_count()} cores; two instances (gunicorn -w 2 each) on ports {ports}, two workers, "
        f"two schedulers; {args.clients} booking clients for {args.seconds:.0f} s; "
        f"{started:%Y-%m-%d %H:%M}-{ended:%H:%M} UTC; load average {os.getloadavg()[0]:.1f} at end"
    )
    print("answers: " + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items())))
    print(f"overlapping live bookings: {overlapping}")
    if overlapping:
        failures.append("overlapping bookings")
    not_once = [r for r in runs if r.attempts != 1 or r.status not in ("succeeded", "stale")]
    workers = collections.Counter(r.worker_id.rsplit(":", 1)[-1] for r in runs if r.worker_id)
    print(
        f"schedule runs: {len(runs)}, solved once each: {len(runs) - len(not_once)}; "
        f"by worker process: {dict(workers)}"
    )
    if not_once or not runs:
        failures.append(f"runs not solved exactly once: {[tuple(r) for r in not_once]}")
    by_job: dict[str, list[dt.datetime]] = collections.defaultdict(list)
    for job, started_at, _host in job_runs:
        by_job[job].append(started_at if started_at.tzinfo else started_at.replace(tzinfo=dt.UTC))
    print("| job | at least apart (min) | runs | closest two runs (s) |")
    print("|---|---|---|---|")
    for job, times in sorted(by_job.items()):
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
        closest = min(gaps) if gaps else None
        interval = once_per(job).total_seconds()
        print(
            f"| {job} | {interval / 60:g} | {len(times)} | {'' if closest is None else round(closest)} |"
        )
        if closest is not None and closest < interval * (1 - INTERVAL_SLACK):
            failures.append(f"job {job} ran twice within its interval")
    good = sum(1 for d in documents if d[3])
    print(
        f"permit documents uploaded through one instance and read through the other: {len(documents)}, "
        f"identical: {good}"
    )
    if good != len(documents) or not documents:
        failures.append("documents")
    print(f"process logs in {logs}")
    if failures:
        print("VIOLATIONS: " + "; ".join(failures))
        raise SystemExit(1)
    print("no violation")


if __name__ == "__main__":
    main()
