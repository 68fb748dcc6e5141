"""An admin's deep page of the bookings list, in-process, on 300,000 bookings (PostgreSQL).

    python benchmarks/deep_page.py                      # builds the data set once, then reuses it
    python benchmarks/deep_page.py --rebuild --repeats 15
    python benchmarks/deep_page.py --explain            # also EXPLAIN ANALYZE the deep pages

The data set is api_bench.py's `large` one (50 houses, 1,000 machines, 5,000 members, 300,000
bookings), built in the database given (default fs_h2; building drops its schema: never point
it at data you want to keep) unless it already holds that many bookings, in which case it is
only migrated to the newest schema. The requests go through the app's test client (no HTTP
server): page 1, the page `--depth` deep by page number, and the same depth by cursor (the
`next` of the page before it). It prints the median and the spread of several runs of each and
the SQL statements one request sends (counted by an SQLAlchemy listener on the app's engine;
the connection's BEGIN/COMMIT are not among them). A benchmark, not a test: nothing asserts
a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import event, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from api_bench import prepare

from factoryshare.db import make_engine, make_session_factory
from factoryshare.migrate import upgrade
from factoryshare.models import ApiToken, Role, User

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fs_h2"
WANTED = 300_000
PAGE_SIZE = 20


def bookings_in(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM bookings")).scalar() or 0)
    except Exception:  # no schema yet: build it
        return 0
    finally:
        engine.dispose()


def admin_token(url: str) -> str:
    """A fresh token of the data set's admin (api_bench's tokens are not kept anywhere)."""
    session = make_session_factory(make_engine(url))()
    admin = session.scalars(select(User).where(User.role == Role.admin).limit(1)).one()
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=admin.id,
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
        )
    )
    session.commit()
    session.close()
    return token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--rebuild", action="store_true", help="drop and build the data set")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--depth", type=int, default=5_000, help="the deep page's number")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("The deep page benchmark runs on PostgreSQL.")

    have = 0 if args.rebuild else bookings_in(args.database_url)
    if have < WANTED:
        t = time.perf_counter()
        info = prepare(args.database_url, "large")
        have = info["bookings"]
        print(f"built {have} bookings in {time.perf_counter() - t:.0f} s", flush=True)
    else:
        upgrade(args.database_url)
        print(f"reusing {have} bookings", flush=True)
    with make_engine(args.database_url).begin() as conn:
        conn.execute(text("ANALYZE bookings"))

    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    from api import create_app  # imported late: the app reads DATABASE_URL
    from api.database import runtime
    from factoryshare.config import Settings

    app = create_app(Settings.from_env())
    with app.app_context():
        engine = runtime().engine
    seen: list[tuple[str, object]] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append((a[2], a[3])))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {admin_token(args.database_url)}"}

    def get(query: dict) -> dict:
        r = client.get("/api/v1/bookings", headers=headers, query_string=query)
        if r.status_code != 200:
            raise SystemExit(f"GET /api/v1/bookings {query}: {r.status_code} {r.get_json()}")
        return r.get_json()

    before = get({"page": args.depth - 1, "page_size": PAGE_SIZE})
    cursor = before["next"]
    by_number = get({"page": args.depth, "page_size": PAGE_SIZE})
    by_cursor = get({"cursor": cursor, "page_size": PAGE_SIZE})
    same = [b["id"] for b in by_number["items"]] == [b["id"] for b in by_cursor["items"]]
    print(
        f"page {args.depth} by number and by cursor hold the same bookings: {same} "
        f"(total {by_number['total']}, capped {by_number['total_capped']})"
    )
    cases = {
        "page 1 (by number)": {"page": 1, "page_size": PAGE_SIZE},
        f"page {args.depth} (by number)": {"page": args.depth, "page_size": PAGE_SIZE},
        f"page {args.depth} (by cursor)": {"cursor": cursor, "page_size": PAGE_SIZE},
    }
    load = os.getloadavg()
    print(f"\n{'admin, GET /api/v1/bookings':<32}{'median ms':>10}{'min':>8}{'max':>8}{'stmts':>7}")
    for name, query in cases.items():
        get(query)  # warm the caches once
        times = []
        for _ in range(args.repeats):
            seen.clear()
            t = time.perf_counter()
            get(query)
            times.append((time.perf_counter() - t) * 1000)
        print(
            f"{name:<32}{statistics.median_high(times):>10.1f}{min(times):>8.1f}"
            f"{max(times):>8.1f}{len(seen):>7}"
        )
        if args.explain:
            with engine.connect() as conn:
                for statement, parameters in list(seen):
                    if "FROM bookings" not in statement:
                        continue
                    plan = conn.exec_driver_sql(
                        "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                    ).scalars()
                    print("    " + "\n    ".join(plan))
    print(
        f"\nload average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
        f"after {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.repeats} runs each"
    )


if __name__ == "__main__":
    main()
