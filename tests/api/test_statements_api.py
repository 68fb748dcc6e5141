import csv
import datetime as dt
import io

from factoryshare.models import Role
from factoryshare.models.bookings import BookingStatus


def _utc(y, m, d, hh, mm, offset_hours):
    return dt.datetime(
        y, m, d, hh, mm, tzinfo=dt.timezone(dt.timedelta(hours=offset_hours))
    ).astimezone(dt.UTC)


def _setup(make_house, make_machine, make_member, make_booking):
    house = make_house(timezone="Asia/Makassar")  # WITA, UTC+8
    saw = make_machine(house=house, name="Gergaji Pita")
    kiln = make_machine(house=house, name="Oven Kayu")
    member = make_member(house_id=house.id)
    book = lambda machine, start, end, status, price: make_booking(  # noqa: E731
        machine=machine, member=member, start_at=start, end_at=end, status=status, price=price
    )
    # 1 Nov 2026 07:00 WITA is still 31 Oct in UTC: it belongs to November.
    book(
        saw,
        _utc(2026, 11, 1, 7, 0, 8),
        _utc(2026, 11, 1, 9, 0, 8),
        BookingStatus.completed,
        100_000,
    )
    book(
        kiln,
        _utc(2026, 11, 10, 8, 0, 8),
        _utc(2026, 11, 10, 11, 0, 8),
        BookingStatus.no_show,
        150_000,
    )
    book(
        saw,
        _utc(2026, 11, 20, 8, 0, 8),
        _utc(2026, 11, 20, 9, 30, 8),
        BookingStatus.cancelled,
        75_000,
    )
    book(
        saw,
        _utc(2026, 11, 30, 13, 0, 8),
        _utc(2026, 11, 30, 14, 0, 8),
        BookingStatus.confirmed,
        50_000,
    )
    # 1 Dec 00:30 WITA is 30 Nov in UTC: it belongs to December.
    book(
        saw,
        _utc(2026, 12, 1, 0, 30, 8),
        _utc(2026, 12, 1, 1, 30, 8),
        BookingStatus.confirmed,
        50_000,
    )
    return house, member


def test_a_members_month_lists_each_booking_and_totals_charged_and_scheduled_rupiah(
    client, make_house, make_machine, make_member, make_booking, make_user, token_for
):
    house, member = _setup(make_house, make_machine, make_member, make_booking)
    headers = token_for(make_user(Role.member, member=member))
    r = client.get(f"/api/v1/members/{member.id}/statements/2026-11", headers=headers)
    assert r.status_code == 200, r.json
    s = r.json
    assert (s["month"], s["zone"]) == ("2026-11", "WITA")
    assert [line["status"] for line in s["lines"]] == [
        "completed",
        "no_show",
        "cancelled",
        "confirmed",
    ]
    assert s["lines"][0]["start"] == "2026-11-01T07:00:00+08:00"
    assert (s["charged"], s["charged_text"]) == (250_000, "Rp250.000")
    assert (s["scheduled"], s["scheduled_text"]) == (50_000, "Rp50.000")
    assert (s["minutes_charged"], s["minutes_scheduled"], s["cancelled_count"]) == (300, 60, 1)
    assert [(m["machine"], m["charged"]) for m in s["by_machine"]] == [
        ("Oven Kayu", 150_000),
        ("Gergaji Pita", 100_000),
    ]
    december = client.get(f"/api/v1/members/{member.id}/statements/2026-12", headers=headers).json
    assert [line["price"] for line in december["lines"]] == [50_000]


def test_the_statement_downloads_as_csv_with_integer_and_written_rupiah(
    client, make_house, make_machine, make_member, make_booking, make_user, token_for
):
    house, member = _setup(make_house, make_machine, make_member, make_booking)
    manager = token_for(make_user(Role.manager, houses=[house]))
    r = client.get(
        f"/api/v1/members/{member.id}/statements/2026-11.csv?language=en", headers=manager
    )
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows[0][:3] == ["booking", "machine", "start"]
    assert rows[1][1:5] == ["Gergaji Pita", "2026-11-01 07:00", "2026-11-01 09:00", "WITA"]
    assert rows[-1][0] == "TOTAL CHARGED"
    assert rows[-1][-2:] == ["250000", "Rp250.000"]
    indonesian = client.get(f"/api/v1/members/{member.id}/statements/2026-11.csv", headers=manager)
    assert indonesian.get_data(as_text=True).startswith("booking,mesin,mulai")


def test_another_members_statement_is_not_found_and_a_bad_month_names_the_field(
    client, make_house, make_machine, make_member, make_booking, make_user, token_for
):
    house, member = _setup(make_house, make_machine, make_member, make_booking)
    stranger = token_for(make_user(Role.member, member=make_member(house_id=house.id)))
    assert (
        client.get(f"/api/v1/members/{member.id}/statements/2026-11", headers=stranger).status_code
        == 404
    )
    other_manager = token_for(make_user(Role.manager, houses=[make_house()]))
    assert (
        client.get(
            f"/api/v1/members/{member.id}/statements/2026-11", headers=other_manager
        ).status_code
        == 404
    )
    own = token_for(make_user(Role.member, member=member))
    r = client.get(f"/api/v1/members/{member.id}/statements/2026-13", headers=own)
    assert r.status_code == 422 and "month" in r.json["errors"]
    aggregator = token_for(make_user(Role.aggregator))
    assert (
        client.get(
            f"/api/v1/members/{member.id}/statements/2026-11", headers=aggregator
        ).status_code
        == 403
    )
