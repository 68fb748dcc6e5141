"""Where a booking POST's time goes, without gunicorn or a network client in the way.

    python benchmarks/booking_post_inprocess.py --database-url postgresql+psycopg://... \
        --posts 300 --rounds 3 [--profile post.prof]

It prepares api_bench's small data set (the database is dropped and migrated again: never
point it at data you want to keep), then books free slots one after another through the app's
test client as the members of api_bench, and prints per POST the wall time and this process's
CPU time (the CPU time is the app's own cost: on a loaded machine the wall time mostly measures
the other processes), the SQL statements one POST sends, and with --profile the share of the
profiled time per package (psycopg's waits for the database on a line of their own).

This is a benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import datetime as dt
import os
import pstats
import sys
import time
from pathlib import Path

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from api_bench import DEFAULT_URL, SLOT, prepare


def _by_package(path: str) -> None:
    """Own time of the profile summed per package."""
    totals: collections.Counter[str] = collections.Counter()
    for (file, _line, name), (_cc, _nc, own, _cum, _callers) in pstats.Stats(path).stats.items():  # type: ignore[attr-defined]
        if name == "wait" and "psycopg" in file:
            key = "psycopg: waiting for the database"
        elif "site-packages/" in file:
            key = file.split("site-packages/")[1].split("/")[0]
        elif file.startswith(str(ROOT)):
            key = "factoryshare: " + file[len(str(ROOT)) + 1 :]
        else:
            key = "python: " + file.rsplit("/", 1)[-1]
        totals[key] += own
    whole = sum(totals.values())
    for key, own in totals.most_common(15):
        print(f"  {own / whole * 100:5.1f} %  {key}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="write the last round's cProfile here")
    args = parser.parse_args()

    info = prepare(args.database_url, "small")
    os.environ["DATABASE_URL"] = args.database_url
    from api import create_app  # imported late: the app reads DATABASE_URL
    from api.database import runtime
    from factoryshare.config import Settings

    app = create_app(Settings.from_env())
    with app.app_context():
        engine = runtime().engine
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    client = app.test_client()
    # From 40 days on: clear of the data set's bookings and of New Year's Day.
    first = info["first"] + dt.timedelta(days=40)
    machines, tokens = info["machines"], info["tokens"]

    def post(n: int) -> None:
        start = first + (n // len(machines)) * SLOT
        resp = client.post(
            "/api/v1/bookings",
            json={
                "machine_id": machines[n % len(machines)],
                "start": start.isoformat(),
                "end": (start + SLOT).isoformat(),
            },
            headers={"Authorization": f"Bearer {tokens[n % len(tokens)]}"},
        )
        if resp.status_code != 201:
            raise SystemExit(f"booking POST answered {resp.status_code}: {resp.get_json()}")

    for n in range(50):  # warm the caches and psycopg's prepared statements
        post(n)
    seen.clear()
    post(50)
    print(
        f"statements per booking POST (BEGIN/COMMIT and the pool's ping not counted): {len(seen)}"
    )
    for sql in seen:
        print("  " + " ".join(sql.split())[:110])
    load = os.getloadavg()[0]
    for r in range(args.rounds):
        profiler = cProfile.Profile() if args.profile and r == args.rounds - 1 else None
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        for n in range(100 + r * args.posts, 100 + (r + 1) * args.posts):
            post(n)
        if profiler:
            profiler.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        note = " (profiled)" if profiler else ""
        print(
            f"round {r + 1}{note}: {wall / args.posts * 1000:.2f} ms wall, "
            f"{cpu / args.posts * 1000:.2f} ms CPU per POST"
        )
    print(f"load average {load:.1f} at start, {os.getloadavg()[0]:.1f} at end")
    if args.profile:
        profiler.dump_stats(args.profile)  # type: ignore[union-attr]
        print(f"profile of the last round in {args.profile}; own time per package:")
        _by_package(str(args.profile))


if __name__ == "__main__":
    main()
