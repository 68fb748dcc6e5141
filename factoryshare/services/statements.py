"""A member's monthly statement of machine bookings and what they cost.

The month is the calendar month in the zone of each booking's own house: a booking belongs
to the month in which it starts there. A booking at another house than the member's home
house is listed with that house's name, address and zone, its times in that zone. Every booking of the month is listed, cancelled ones included (at no charge)
so the member can match the statement with what it did. What counts:
- charged: completed bookings and no-shows (the machine was kept for the member);
- scheduled: held and confirmed bookings not done yet (charged once completed);
- cancelled: nothing.
Amounts are the integer rupiah frozen on each booking when it was made or moved.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare import zones
from factoryshare.access import Actor, get_scoped
from factoryshare.errors import ValidationFailed
from factoryshare.i18n import N_
from factoryshare.messages import rupiah
from factoryshare.models import Machine, Member, ProductionHouse, Role
from factoryshare.models.bookings import Booking, BookingStatus
from factoryshare.services import calendar

CHARGED = (BookingStatus.completed, BookingStatus.no_show)
SCHEDULED = (BookingStatus.held, BookingStatus.confirmed)

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class StatementLine:
    booking_id: int
    machine_id: int
    machine: str
    start: dt.datetime  # in the zone of the booking's house

    end: dt.datetime
    minutes: int
    status: BookingStatus
    price: int
    # What this line adds to the amount charged (0 unless completed or no-show).
    charged: int
    # The house the booking is at (the member's home house or another one).
    house: ProductionHouse | None = None

    @property
    def house_id(self) -> int | None:
        return self.house.id if self.house is not None else None

    @property
    def house_name(self) -> str:
        return self.house.name if self.house is not None else ""

    @property
    def address(self) -> str:
        return (self.house.address or "") if self.house is not None else ""

    @property
    def timezone(self) -> str:
        return self.house.timezone if self.house is not None else ""

    @property
    def zone(self) -> str:
        return zones.abbreviation(self.house.timezone) if self.house is not None else ""


@dataclass
class Statement:
    member: Member
    house: ProductionHouse
    month: str  # YYYY-MM
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def zone(self) -> str:
        return zones.abbreviation(self.house.timezone)

    @property
    def charged(self) -> int:
        return sum(line.charged for line in self.lines)

    @property
    def scheduled(self) -> int:
        return sum(line.price for line in self.lines if line.status in SCHEDULED)

    @property
    def minutes_charged(self) -> int:
        return sum(line.minutes for line in self.lines if line.status in CHARGED)

    @property
    def minutes_scheduled(self) -> int:
        return sum(line.minutes for line in self.lines if line.status in SCHEDULED)

    @property
    def cancelled_count(self) -> int:
        return sum(1 for line in self.lines if line.status is BookingStatus.cancelled)

    def by_machine(self) -> list[dict[str, object]]:
        """Charged minutes and rupiah per machine, largest amount first."""
        totals: dict[int, dict[str, object]] = {}
        for line in self.lines:
            if line.status not in CHARGED:
                continue
            row = totals.setdefault(
                line.machine_id,
                {
                    "machine_id": line.machine_id,
                    "machine": line.machine,
                    "minutes": 0,
                    "charged": 0,
                },
            )
            row["minutes"] = int(row["minutes"]) + line.minutes  # type: ignore[call-overload]
            row["charged"] = int(row["charged"]) + line.charged  # type: ignore[call-overload]
        return sorted(totals.values(), key=lambda r: (-int(r["charged"]), str(r["machine"])))  # type: ignore[call-overload]


def parse_month(value: str) -> tuple[int, int]:
    match = _MONTH.match(value or "")
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2100:
        raise ValidationFailed(
            N_("Give the month as YYYY-MM, e.g. 2026-11."),
            errors={"month": [N_("Must be YYYY-MM (years 2000-2100).")]},
        )
    return int(match.group(1)), int(match.group(2))


def month_bounds(house: ProductionHouse, year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants at which the month starts and ends in the house's zone."""
    zone = calendar.house_zone(house)
    start = dt.datetime(year, month, 1, tzinfo=zone)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def member_statement(session: Session, actor: Actor, member_id: int, month: str) -> Statement:
    """The statement of `member_id` for `month` (YYYY-MM). A member sees its own, a manager
    those of its houses' members, an admin all; others get 404/403 as usual."""
    actor.require(Role.member, Role.manager, Role.admin)
    year, mon = parse_month(month)
    member = get_scoped(session, actor, Member, member_id)
    house = session.get(ProductionHouse, member.house_id)
    assert house is not None
    start, end = month_bounds(house, year, mon)
    # Indonesia's zones lie within UTC+7..+9: a day either side holds every booking that
    # starts in the month in the zone of its own house; each is then placed by that zone.
    rows = session.execute(
        select(Booking, Machine, ProductionHouse)
        .join(Machine, Machine.id == Booking.machine_id)
        .join(ProductionHouse, ProductionHouse.id == Machine.house_id)
        .where(
            Booking.member_id == member.id,
            Booking.start_at >= start - dt.timedelta(days=1),
            Booking.start_at < end + dt.timedelta(days=1),
        )
        .order_by(Booking.start_at, Booking.id)
    ).all()
    statement = Statement(member=member, house=house, month=f"{year:04d}-{mon:02d}")
    for booking, machine, at_house in rows:
        zone = calendar.house_zone(at_house)
        local_start = booking.start_at.astimezone(zone)
        if (local_start.year, local_start.month) != (year, mon):
            continue
        minutes = int((booking.end_at - booking.start_at).total_seconds() // 60)
        statement.lines.append(
            StatementLine(
                booking_id=booking.id,
                machine_id=machine.id,
                machine=machine.name,
                start=local_start,
                end=booking.end_at.astimezone(zone),
                minutes=minutes,
                status=booking.status,
                price=booking.price,
                charged=booking.price if booking.status in CHARGED else 0,
                house=at_house,
            )
        )
    return statement


_HEADERS = {
    "id": [
        "booking",
        "mesin",
        "mulai",
        "selesai",
        "zona",
        "rumah_produksi",
        "alamat",
        "menit",
        "status",
        "harga_rupiah",
        "ditagih_rupiah",
        "ditagih",
    ],
    "en": [
        "booking",
        "machine",
        "start",
        "end",
        "zone",
        "house",
        "address",
        "minutes",
        "status",
        "price_rupiah",
        "charged_rupiah",
        "charged",
    ],
}
_TOTAL = {"id": "JUMLAH DITAGIH", "en": "TOTAL CHARGED"}


def statement_csv(statement: Statement, language: str = "id") -> str:
    """The statement as CSV for a spreadsheet: integer rupiah columns to compute with and
    the charged amount written the Indonesian way (Rp1.500.000) to read."""
    lang = language if language in _HEADERS else "id"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_HEADERS[lang])
    for line in statement.lines:
        writer.writerow(
            [
                line.booking_id,
                line.machine,
                line.start.strftime("%Y-%m-%d %H:%M"),
                line.end.strftime("%Y-%m-%d %H:%M"),
                line.zone or statement.zone,
                line.house_name,
                line.address,
                line.minutes,
                line.status.value,
                line.price,
                line.charged,
                rupiah(line.charged),
            ]
        )
    writer.writerow(
        [
            _TOTAL[lang],
            "",
            "",
            "",
            "",
            "",
            "",
            statement.minutes_charged,
            "",
            "",
            statement.charged,
            rupiah(statement.charged),
        ]
    )
    return out.getvalue()
