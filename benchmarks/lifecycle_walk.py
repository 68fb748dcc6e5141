"""The lifecycle issue's rules, walked through a running service as each role would.

    make run                                    # in another shell: demo data on :5000
    python benchmarks/lifecycle_walk.py [--port 5000]

It signs in with the demo accounts and, per rule, sends the request and prints the answer
seen: completing too early, rejecting with a reason, a moved hold, a closure over bookings
(preview, refusal, cancellation with alternatives), zones, a stale schedule run, unread
notifications, the same error in Indonesian and English, the job scheduler's runs and a
statement line of another house. It changes the demo data (run it on a fresh `make run`).

Not a test: it prints what a person would see and exits 1 when an answer is not the one wanted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from security_walk import (
    ADMIN,
    MANAGER_GARUT,
    MEMBER_ASEP,
    WIB,
    Http,
    _next_working_day,
    _slot,
    code_of,
    sign_in,
)

RULES: list[Any] = []
failures = 0


def rule(fn: Any) -> Any:
    RULES.append(fn)
    return fn


def report(name: str, request: str, seen: str, ok: bool) -> None:
    global failures
    failures += 0 if ok else 1
    print(f"[{'ok' if ok else 'NOT MET'}] {name}\n    {request}\n    -> {seen}")


class Demo:
    def __init__(self, port: int) -> None:
        self.port = port
        self.admin = sign_in(port, ADMIN)
        self.manager = sign_in(port, MANAGER_GARUT)
        self.member = sign_in(port, MEMBER_ASEP)
        houses = self.admin.call("GET", "/api/v1/houses?page_size=50")[1]["items"]
        self.garut = next(h for h in houses if h["timezone"] == "Asia/Jakarta")
        self.jembrana = next(h for h in houses if h["timezone"] == "Asia/Makassar")
        me = self.member.call("GET", "/api/v1/auth/me")[1]
        self.member_id = me["member_id"]

    def machine(self, house: dict[str, Any], capability: str) -> int:
        items = self.admin.call("GET", f"/api/v1/machines?house_id={house['id']}&page_size=100")[1][
            "items"
        ]
        return next(
            m["id"]
            for m in items
            if capability in m.get("capabilities", []) and m.get("status") == "active"
        )

    def book(
        self, client: Http, machine: int, day: dt.date, hour: int, minutes: int = 60, **extra: Any
    ) -> dict[str, Any]:
        status, data, _ = client.call(
            "POST",
            "/api/v1/bookings",
            {"machine_id": machine, **_slot(day, hour, 0, minutes), **extra},
        )
        if status != 201:
            raise SystemExit(f"booking refused: {status} {data}")
        return data


@rule
def complete_only_once_started(d: Demo) -> None:
    booking = d.book(d.member, d.machine(d.garut, "sewing"), _next_working_day(2), 9)
    d.manager.call("POST", f"/api/v1/bookings/{booking['id']}/confirm")
    done = d.manager.call("POST", f"/api/v1/bookings/{booking['id']}/complete")
    no_show = d.manager.call("POST", f"/api/v1/bookings/{booking['id']}/no_show")
    report(
        "Complete and no-show only once the booking has started",
        f"POST /bookings/{booking['id']}/complete and /no_show for a booking of {booking['start']}",
        f"complete: {code_of(*done[:2])} {done[1].get('message')}; no-show: {code_of(*no_show[:2])}",
        done[0] == 409 and done[1].get("code") == "too_early" and no_show[0] == 409,
    )


@rule
def reject_with_a_reason_tells_the_member(d: Demo) -> None:
    booking = d.book(d.member, d.machine(d.garut, "sewing"), _next_working_day(3), 10)
    before = d.member.call("GET", "/api/v1/notifications/unread-count")[1].get("unread")
    bare = d.manager.call("POST", f"/api/v1/bookings/{booking['id']}/reject", {})
    done = d.manager.call(
        "POST",
        f"/api/v1/bookings/{booking['id']}/reject",
        {"reason": "Mesin dipakai pelatihan operator"},
    )
    after = d.member.call("GET", "/api/v1/notifications/unread-count")[1].get("unread")
    latest = d.member.call("GET", "/api/v1/notifications?page_size=1")[1]["items"][0]
    report(
        "A manager rejects a hold with a required reason; the member is told",
        f"POST /bookings/{booking['id']}/reject without, then with a reason; member's unread count",
        f"without: {code_of(*bare[:2])}; with: {done[0]} {done[1].get('status')}; unread "
        f"{before} -> {after}; latest: {latest['subject']!r}",
        bare[0] == 422 and done[0] == 200 and after == before + 1,
    )


@rule
def a_moved_hold_moves_its_expiry(d: Demo) -> None:
    machine = d.machine(d.garut, "sewing")
    booking = d.book(d.member, machine, _next_working_day(4), 13)
    time.sleep(1.5)
    moved = d.member.call(
        "PATCH", f"/api/v1/bookings/{booking['id']}", _slot(_next_working_day(6), 14)
    )
    report(
        "Moving a held booking moves its hold expiry with it",
        f"PATCH /bookings/{booking['id']} to another day",
        f"hold expired at {booking['hold_expires_at']}, after the move {moved[1].get('hold_expires_at')}",
        moved[0] == 200 and moved[1].get("hold_expires_at") != booking["hold_expires_at"],
    )


@rule
def a_closure_over_bookings(d: Demo) -> None:
    day = _next_working_day(8)
    booking = d.book(d.member, d.machine(d.garut, "sewing"), day, 9)
    path = f"/api/v1/houses/{d.garut['id']}/closures"
    body = {"start_on": day.isoformat(), "end_on": day.isoformat(), "reason": "Renovasi listrik"}
    preview = d.manager.call("POST", f"{path}?dry_run=true", body)
    refused = d.manager.call("POST", path, body)
    applied = d.manager.call("POST", f"{path}?affected=cancel", body)
    state = d.member.call("GET", f"/api/v1/bookings/{booking['id']}")[1]
    latest = d.member.call("GET", "/api/v1/notifications?page_size=1")[1]["items"][0]
    hit = [a.get("booking_id", a.get("id")) for a in preview[1].get("affected", [])]
    report(
        "A closure that hits a live booking: preview, refusal, cancellation with alternatives",
        f"POST {path} ?dry_run=true, then plain, then ?affected=cancel ({day})",
        f"preview {preview[0]} hits {hit}; plain {code_of(*refused[:2])}; cancel {applied[0]}; "
        f"booking now {state.get('status')} ({state.get('cancelled_reason')!r}); member told "
        f"{latest['subject']!r}",
        preview[0] == 200
        and booking["id"] in hit
        and refused[0] == 409
        and applied[0] == 201
        and state.get("status") == "cancelled",
    )


@rule
def only_indonesian_zones(d: Demo) -> None:
    answers = {
        zone: code_of(
            *d.manager.call("PATCH", f"/api/v1/houses/{d.garut['id']}", {"timezone": zone})[:2]
        )
        for zone in ("Europe/London", "Asia/Tokyo", "Mars/Olympus")
    }
    report(
        "Only Indonesia's IANA zones",
        f"PATCH /houses/{d.garut['id']} timezone=…",
        str(answers),
        all(a.startswith("422") for a in answers.values()),
    )


@rule
def a_stale_run_is_not_published(d: Demo) -> None:
    products = d.member.call("GET", f"/api/v1/products?member_id={d.member_id}")[1]["items"]
    start = dt.datetime.combine(_next_working_day(10), dt.time(8), tzinfo=WIB)
    d.member.call(
        "POST",
        "/api/v1/production-requests",
        {
            "product_id": products[0]["id"],
            "quantity": 4,
            "earliest_start": start.isoformat(),
            "due": (start + dt.timedelta(days=5)).isoformat(),
        },
    )
    status, run, _ = d.manager.call(
        "POST",
        f"/api/v1/houses/{d.garut['id']}/schedule-runs",
        {
            "horizon_start": start.isoformat(),
            "horizon_end": (start + dt.timedelta(days=7)).isoformat(),
            "time_limit_seconds": 3,
        },
    )
    for _ in range(300):
        run = d.manager.call("GET", f"/api/v1/schedule-runs/{run['id']}")[1]
        if run["status"] not in ("queued", "running"):
            break
        time.sleep(0.5)
    d.book(d.member, d.machine(d.garut, "sewing"), start.date(), 16)
    published = d.manager.call("POST", f"/api/v1/schedule-runs/{run['id']}/publish")
    after = d.manager.call("GET", f"/api/v1/schedule-runs/{run['id']}")[1]["status"]
    report(
        "Publishing a run whose published schedule changed since it was solved",
        f"run {run['id']} solved ({run['status']}), a member books in its horizon, POST publish",
        f"{code_of(*published[:2])}: {published[1].get('message')}; run now {after}",
        published[0] == 409 and published[1].get("code") == "stale_run" and after == "stale",
    )


@rule
def errors_in_the_readers_language(d: Demo) -> None:
    path = "/api/v1/bookings/999999"
    indonesian = d.member.call("GET", path)[1].get("message")
    english = Http(d.port).call(
        "POST", "/api/v1/auth/token", {"email": "x@y.id"}, headers={"Accept-Language": "en"}
    )[1]
    signed_out = Http(d.port).call("POST", "/api/v1/auth/token", {"email": "x@y.id"})[1]
    report(
        "Errors in the reader's language (user's setting; Accept-Language signed out)",
        f"GET {path} as an Indonesian member; POST /auth/token without password, en and default",
        f"member: {indonesian!r}; en: {english.get('errors')}; default: {signed_out.get('errors')}",
        indonesian != "Booking 999999 was not found."
        and english.get("errors") != signed_out.get("errors"),
    )


@rule
def the_scheduler_runs_with_make_run(d: Demo) -> None:
    runs = d.admin.call("GET", "/api/v1/job-runs?page_size=50")[1]
    items = runs.get("items", runs) if isinstance(runs, dict) else runs
    jobs = sorted({r.get("job") for r in items if isinstance(r, dict)})
    report(
        "make run starts the job scheduler",
        "GET /api/v1/job-runs as admin",
        f"{len(items)} runs of {jobs}",
        bool(jobs),
    )


@rule
def another_houses_booking_in_the_statement(d: Demo) -> None:
    roaster = d.machine(d.jembrana, "roasting")
    day = _next_working_day(12)
    booking = d.book(d.member, roaster, day, 9)
    month = booking["start"][:7]
    statement = d.member.call("GET", f"/api/v1/members/{d.member_id}/statements/{month}")[1]
    line = next(
        (
            b
            for b in statement.get("bookings", statement.get("lines", []))
            if b.get("booking_id", b.get("id")) == booking["id"]
        ),
        {},
    )
    report(
        "A booking at another house in the member's statement",
        f"book {roaster} at {d.jembrana['name']}; GET /members/{d.member_id}/statements/{month}",
        f"{line.get('house')}, {line.get('address')}, {line.get('start')} {line.get('zone')}",
        line.get("house") == d.jembrana["name"] and line.get("zone") == "WITA",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    demo = Demo(args.port)
    for fn in RULES:
        try:
            fn(demo)
        except (KeyError, StopIteration, IndexError, SystemExit) as exc:
            report(
                fn.__name__.replace("_", " "), "(setting up)", f"{type(exc).__name__}: {exc}", False
            )
    print(f"\n{len(RULES)} rules, {failures} not as wanted")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
