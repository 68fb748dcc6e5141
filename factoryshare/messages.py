"""Message templates in Bahasa Indonesia and English, and how money and times read in them.

`render(template, language, context)` returns `(subject, body)`. Every template lists the
context keys it needs; a missing one is a `ValueError`, an unknown template a `LookupError`.

Context values the templates read (all JSON-safe after `to_json`):
- `timezone`: the house's IANA zone (default `Asia/Jakarta`); every time is shown in it, with
  WIB, WITA or WIT;
- `machine`, `house`, `product`, `cluster`, `loan`, `permit`, `number`, `reason`, `note`:
  names and labels as text;
- `start`, `end`, `expires_at`: aware datetimes (or ISO 8601 strings with offset);
- `due_on`, `expires_on`: dates (or ISO 8601 strings);
- `price`, `amount`: integer rupiah;
- `change`: `closure` (with `closure_start`, `closure_end` dates), `opening_hours`,
  `slot_minutes`, `timezone` or `calendar` (several at once) (booking_calendar_change);
- `action`: `cancelled` or `kept` (booking_downtime); `decision`: `approved`, `rejected` or
  `changes_requested` (loan_decision);
- `alternatives`: up to three free slots, each `{"start", "end"}` and optionally `"machine"`;
- `count`, `days_left`, `days_overdue`: whole numbers.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency

from factoryshare.zones import abbreviation as zone_abbreviation

DEFAULT_TIMEZONE = "Asia/Jakarta"
LANGUAGES = ("id", "en")
_LOCALES = {"id": "id_ID", "en": "en_GB"}

def rupiah(amount: int) -> str:
    """Integer rupiah the Indonesian way: `Rp1.500.000` (no decimals, `.` for thousands)."""
    return format_currency(int(amount), "IDR", locale="id_ID", format="¤#,##0",
                           currency_digits=False)


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {timezone!r}") from None


def _as_datetime(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValueError(f"expected an aware datetime, got {value!r}")
    return value


def _as_date(value: Any) -> dt.date:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        raise ValueError(f"expected a date, got {value!r}")
    return value


class Formatter:
    """Money, dates and times in one language and one house's time zone."""

    def __init__(self, language: str, timezone: str = DEFAULT_TIMEZONE) -> None:
        self.language = language
        self.locale = _LOCALES[language]
        self.timezone = timezone
        self.zone = _zone(timezone)

    def money(self, amount: Any) -> str:
        return rupiah(amount)

    def local(self, value: Any) -> dt.datetime:
        return _as_datetime(value).astimezone(self.zone)

    def _day(self, local: dt.datetime) -> str:
        pattern = "EEEE, d MMMM yyyy" if self.language == "id" else "EEEE d MMMM yyyy"
        return format_datetime(local, pattern, locale=self.locale)

    def when(self, value: Any) -> str:
        """`Selasa, 24 November 2026 10:00 WITA` / `Tuesday 24 November 2026 10:00 WITA`."""
        local = self.local(value)
        return f"{self._day(local)} {local:%H:%M} {zone_abbreviation(self.timezone, local)}"

    def span(self, start: Any, end: Any) -> str:
        """A time range; one date when both ends fall on the same local day."""
        a, b = self.local(start), self.local(end)
        if a.date() == b.date():
            return f"{self._day(a)} {a:%H:%M}–{b:%H:%M} {zone_abbreviation(self.timezone, b)}"
        return f"{self.when(a)} – {self.when(b)}"

    def date(self, value: Any) -> str:
        return format_date(_as_date(value), "d MMMM yyyy", locale=self.locale)


def to_json(value: Any) -> Any:
    """Context values as JSON-safe data: times and dates as ISO 8601, enums as their value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


Render = Callable[[dict[str, Any], Formatter], tuple[str, str]]


@dataclass(frozen=True)
class Template:
    needs: tuple[str, ...]
    id: Render
    en: Render


def _greeting(ctx: dict[str, Any], lang: str) -> str:
    name = ctx.get("recipient")
    if lang == "id":
        return f"Halo {name}," if name else "Halo,"
    return f"Hello {name}," if name else "Hello,"


def _cluster(ctx: dict[str, Any], word: str) -> str:
    """'klaster Kakao Jembrana', or the name alone when it already says so ('Klaster Kulit
    Sukaregang'), never 'klaster Klaster ...'."""
    name = str(ctx["cluster"])
    return name if name.lower().startswith(("klaster", "cluster")) else f"{word} {name}"


def _letter(ctx: dict[str, Any], lang: str, *paragraphs: str) -> str:
    closing = "Salam,\nfactoryshare" if lang == "id" else "Regards,\nfactoryshare"
    return "\n\n".join([_greeting(ctx, lang), *[p for p in paragraphs if p], closing]) + "\n"


def _said(value: Any, lang: str) -> str:
    """A stored text in the reader's language: a system text (a cancel reason the service
    wrote) by its catalogue entry (factoryshare/i18n.py); what a person typed as it is."""
    text = str(value)
    try:
        from factoryshare import i18n
    except ImportError:  # pragma: no cover - the catalogue module is part of every build
        return text
    return str(i18n.translate(text, lang))


def _reason(ctx: dict[str, Any], lang: str) -> str:
    reason = ctx.get("reason")
    if not reason:
        return ""
    reason = _said(reason, lang).rstrip(".")
    return f"Alasan: {reason}." if lang == "id" else f"Reason: {reason}."


def _by(ctx: dict[str, Any], lang: str) -> str:
    """` oleh Budi (pengelola rumah produksi)` / ` by Budi (the production house's manager)`."""
    who = ctx.get("by")
    if not who:
        return ""
    role = _ROLES.get(str(ctx.get("by_role") or ""))
    if role is None:
        return f" oleh {who}" if lang == "id" else f" by {who}"
    return f" oleh {who} ({role[0]})" if lang == "id" else f" by {who} ({role[1]})"


_ROLES = {
    "manager": ("pengelola rumah produksi", "the production house's manager"),
    "admin": ("admin factoryshare", "factoryshare's admin"),
    "aggregator": ("agregator klaster", "the cluster's aggregator"),
    "member": ("anggota", "a member"),
    "lender": ("bank penyalur", "the lender"),
}


# -- bookings ---------------------------------------------------------------------------------

def _booking_confirmed_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    price = f"Biaya: {f.money(c['price'])}." if c.get("price") is not None else ""
    return (f"Pemesanan dikonfirmasi: {c['machine']}, {span}",
            _letter(c, "id", f"Pemesanan Anda untuk {c['machine']} pada {span} sudah dikonfirmasi.",
                    price))


def _booking_confirmed_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    price = f"Price: {f.money(c['price'])}." if c.get("price") is not None else ""
    return (f"Booking confirmed: {c['machine']}, {span}",
            _letter(c, "en", f"Your booking of {c['machine']} on {span} is confirmed.", price))


def _booking_held_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    expires = (f"Jika belum dikonfirmasi sampai {f.when(c['expires_at'])}, slot ini dilepas."
               if c.get("expires_at") else "")
    price = f"Biaya: {f.money(c['price'])}." if c.get("price") is not None else ""
    return (f"Pemesanan menunggu konfirmasi: {c['machine']}, {span}",
            _letter(c, "id", f"Pemesanan Anda untuk {c['machine']} pada {span} kami tahan sampai "
                    "dikonfirmasi oleh pengelola rumah produksi.", expires, price))


def _booking_held_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    expires = (f"If it is not confirmed by {f.when(c['expires_at'])}, the slot is released."
               if c.get("expires_at") else "")
    price = f"Price: {f.money(c['price'])}." if c.get("price") is not None else ""
    return (f"Booking awaiting confirmation: {c['machine']}, {span}",
            _letter(c, "en", f"Your booking of {c['machine']} on {span} is held until the "
                    "production house's manager confirms it.", expires, price))


def _booking_cancelled_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    return (f"Pemesanan dibatalkan: {c['machine']}, {span}",
            _letter(c, "id", f"Pemesanan Anda untuk {c['machine']} pada {span} telah "
                    f"dibatalkan{_by(c, 'id')}.", _reason(c, "id"), _offer(c, f, "id")))


def _booking_cancelled_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    return (f"Booking cancelled: {c['machine']}, {span}",
            _letter(c, "en", f"Your booking of {c['machine']} on {span} has been "
                    f"cancelled{_by(c, 'en')}.", _reason(c, "en"), _offer(c, f, "en")))


def _booking_rejected_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    return (f"Pemesanan ditolak: {c['machine']}, {span}",
            _letter(c, "id", f"Permintaan pemesanan Anda untuk {c['machine']} pada {span} "
                    f"ditolak{_by(c, 'id')}.", _reason(c, "id"),
                    "Slot itu dilepas; Anda dapat memesan slot lain."))


def _booking_rejected_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    return (f"Booking rejected: {c['machine']}, {span}",
            _letter(c, "en", f"Your booking request for {c['machine']} on {span} was "
                    f"rejected{_by(c, 'en')}.", _reason(c, "en"),
                    "The slot is released; you may book another one."))


def _booking_moved_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    old = f.span(c["old_start"], c["old_end"])
    was = f"{c['old_machine']}, {old}" if c.get("old_machine") else old
    return (f"Pemesanan dipindahkan: {c['machine']}, {span}",
            _letter(c, "id", f"Pemesanan Anda dipindahkan{_by(c, 'id')}.",
                    f"Sebelumnya: {was}.\nSekarang: {c['machine']}, {span}.", _reason(c, "id")))


def _booking_moved_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    old = f.span(c["old_start"], c["old_end"])
    was = f"{c['old_machine']}, {old}" if c.get("old_machine") else old
    return (f"Booking moved: {c['machine']}, {span}",
            _letter(c, "en", f"Your booking has been moved{_by(c, 'en')}.",
                    f"Before: {was}.\nNow: {c['machine']}, {span}.", _reason(c, "en")))


def _offer(c: dict[str, Any], f: Formatter, lang: str) -> str:
    """Up to three free slots, when the context brings them."""
    if "alternatives" not in c:
        return ""
    return _free_slots(c, f, lang)


def _free_slots(c: dict[str, Any], f: Formatter, lang: str) -> str:
    """Up to three free slots, or that there is none."""
    alts = _alternatives(c, f)
    if lang == "id":
        return ("Slot lain yang masih kosong:\n" + "\n".join(alts)) if alts else (
            "Saat ini belum ada slot pengganti yang kosong.")
    return ("Other free slots:\n" + "\n".join(alts)) if alts else (
        "There is no free alternative slot at the moment.")


def _hold_expired_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    return (f"Slot dilepas: {c['machine']}, {span}",
            _letter(c, "id", f"Slot yang kami tahan untuk Anda di {c['machine']} pada {span} telah "
                    "dilepas karena tidak dikonfirmasi tepat waktu. Silakan pesan slot lain."))


def _hold_expired_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    return (f"Slot released: {c['machine']}, {span}",
            _letter(c, "en", f"The slot held for you on {c['machine']} on {span} has been "
                    "released because it was not confirmed in time. Please book another slot."))


def _alternatives(c: dict[str, Any], f: Formatter) -> list[str]:
    lines = []
    for slot in list(c.get("alternatives") or [])[:3]:
        machine = slot.get("machine") or c["machine"]
        lines.append(f"- {machine}: {f.span(slot['start'], slot['end'])}")
    return lines


def _downtime_action(c: dict[str, Any]) -> str:
    action = c["action"]
    if action not in ("cancelled", "kept"):
        raise ValueError(f"booking_downtime: action must be cancelled or kept, got {action!r}")
    return str(action)


def _booking_downtime_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    if _downtime_action(c) == "cancelled":
        subject = f"Mesin tidak tersedia, pemesanan dibatalkan: {c['machine']}, {span}"
        what = "Karena itu pemesanan Anda dibatalkan dan tidak dikenai biaya."
    else:
        subject = f"Mesin tidak tersedia: {c['machine']}, {span}"
        what = ("Pemesanan Anda tetap tercatat; pengelola rumah produksi akan menghubungi Anda. "
                "Anda juga dapat memindahkannya ke slot lain.")
    offer = _free_slots(c, f, "id")
    return (subject, _letter(c, "id", f"{c['machine']} tidak dapat digunakan pada waktu "
                             f"pemesanan Anda ({span}).", _reason(c, "id"), what, offer))


def _booking_downtime_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    if _downtime_action(c) == "cancelled":
        subject = f"Machine unavailable, booking cancelled: {c['machine']}, {span}"
        what = "Your booking has therefore been cancelled at no charge."
    else:
        subject = f"Machine unavailable: {c['machine']}, {span}"
        what = ("Your booking still stands; the production house's manager will contact you. "
                "You may also move it to another slot.")
    offer = _free_slots(c, f, "en")
    return (subject, _letter(c, "en", f"{c['machine']} cannot be used during your "
                             f"booking ({span}).", _reason(c, "en"), what, offer))


_CALENDAR_CHANGES = ("closure", "opening_hours", "slot_minutes", "timezone", "calendar")


def _calendar_change(c: dict[str, Any], f: Formatter, lang: str) -> str:
    change = c["change"]
    if change not in _CALENDAR_CHANGES:
        raise ValueError(f"booking_calendar_change: change must be one of {_CALENDAR_CHANGES}, "
                         f"got {change!r}")
    if c.get("house"):
        house_id, house_en = f"rumah produksi {c['house']}", str(c["house"])
    else:
        house_id, house_en = "rumah produksi", "The production house"
    house_cap = house_id[0].upper() + house_id[1:]
    if change == "closure":
        first, last = c.get("closure_start"), c.get("closure_end")
        if first and last:
            days = f.date(first) if first == last else f"{f.date(first)} – {f.date(last)}"
            return (f"{house_cap} tutup pada {days}" if lang == "id"
                    else f"{house_en} is closed on {days}")
        return f"{house_cap} tutup" if lang == "id" else f"{house_en} is closed"
    zone = zone_abbreviation(f.timezone)
    if lang == "id":
        return {"opening_hours": f"Jam buka {house_id} berubah",
                "slot_minutes": f"Pembagian slot pemesanan di {house_id} berubah",
                "timezone": f"{house_cap} kini memakai zona waktu {zone}",
                "calendar": f"Jadwal buka {house_id} berubah"}[change]
    the = house_en if c.get("house") else "the production house"
    return {"opening_hours": f"The opening hours of {the} changed",
            "slot_minutes": f"The booking slots of {the} changed",
            "timezone": f"{house_en} now keeps {zone} time",
            "calendar": f"The calendar of {the} changed"}[change]


def _booking_calendar_change_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    offer = _free_slots(c, f, "id")
    return (f"Rumah produksi berubah jadwal, pemesanan dibatalkan: {c['machine']}, {span}",
            _letter(c, "id", f"{_calendar_change(c, f, 'id')}, sehingga pemesanan Anda untuk "
                    f"{c['machine']} pada {span} "
                    + ("tidak lagi sesuai dengan slot yang berlaku." if c["change"] == "slot_minutes"
                       else "tidak lagi masuk jam buka."), _reason(c, "id"),
                    "Karena itu pemesanan Anda dibatalkan dan tidak dikenai biaya.", offer))


def _booking_calendar_change_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    offer = _free_slots(c, f, "en")
    return (f"Production house calendar changed, booking cancelled: {c['machine']}, {span}",
            _letter(c, "en", f"{_calendar_change(c, f, 'en')}, so your booking of "
                    f"{c['machine']} on {span} "
                    + ("no longer fits its booking slots." if c["change"] == "slot_minutes"
                       else "no longer falls within its opening hours."),
                    _reason(c, "en"), "Your booking has therefore been cancelled at no charge.",
                    offer))


def _waitlist_slot_free_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    return (f"Slot yang Anda tunggu kosong: {c['machine']}, {span}",
            _letter(c, "id", f"{c['machine']} kini kosong pada {span}. Pesan segera sebelum "
                    "diambil anggota lain."))


def _waitlist_slot_free_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    return (f"The slot you wait for is free: {c['machine']}, {span}",
            _letter(c, "en", f"{c['machine']} is now free on {span}. Book it soon, before "
                    "another member does."))


def _unfunded_hold_released_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    return (f"Slot dilepas karena belum dibiayai: {c['machine']}, {span}",
            _letter(c, "id", f"Slot yang kami tahan untuk Anda di {c['machine']} pada {span} "
                    "telah dilepas karena pembiayaannya belum disetujui tepat waktu."))


def _unfunded_hold_released_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    span = f.span(c["start"], c["end"])
    return (f"Slot released for lack of financing: {c['machine']}, {span}",
            _letter(c, "en", f"The slot held for you on {c['machine']} on {span} has been "
                    "released because its financing was not approved in time."))


# -- schedules --------------------------------------------------------------------------------

def _schedule_published_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    period = f" untuk {f.span(c['start'], c['end'])}" if c.get("start") and c.get("end") else ""
    count = (f"Anda mendapat {int(c['count'])} pemesanan dalam jadwal ini."
             if c.get("count") is not None else "")
    return (f"Jadwal produksi {c['house']} diterbitkan",
            _letter(c, "id", f"Jadwal produksi {c['house']}{period} telah diterbitkan.", count,
                    "Lihat rinciannya di factoryshare."))


def _schedule_published_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    period = f" for {f.span(c['start'], c['end'])}" if c.get("start") and c.get("end") else ""
    count = (f"You have {int(c['count'])} bookings in this schedule."
             if c.get("count") is not None else "")
    return (f"Production schedule of {c['house']} published",
            _letter(c, "en", f"The production schedule of {c['house']}{period} has been "
                    "published.", count, "See the details in factoryshare."))


# Why a published plan left a request out (factoryshare/services/solving.py WHY_NOT_PLACED),
# said to the member who asked for it.
WHY_NOT = {
    "no_machine": ("tidak ada mesin di rumah produksi ini yang dapat mengerjakan salah satu "
                   "tahapnya.", "no machine of the house can do one of its steps."),
    "no_window": ("salah satu tahapnya lebih lama daripada waktu buka mesinnya dalam sekali "
                  "jalan sebelum tenggat.",
                  "one of its steps takes longer than its machines are open in one go before "
                  "it is due."),
    "deadline": ("permintaan ini tidak dapat selesai sebelum batas waktunya, atau sebelum izin "
                 "yang diperlukan habis berlaku.",
                 "it cannot be finished by its deadline, or before a permit it needs runs out."),
    "share_cap": ("permintaan ini akan membuat Anda melebihi jatah Anda atas mesin langka di "
                  "rumah produksi.",
                  "it would take you above your share of the house's scarce machines."),
    "capacity": ("mesin sudah penuh pada periode yang direncanakan; pengelola dapat "
                 "menjadwalkannya pada penjadwalan berikutnya.",
                 "the machines are taken for the planned period; the manager can plan it in a "
                 "later run."),
}


def _why(c: dict[str, Any], lang: str) -> str:
    words = WHY_NOT.get(str(c.get("why") or ""), WHY_NOT["capacity"])
    return words[0] if lang == "id" else words[1]


def _steps(c: dict[str, Any], f: Formatter) -> list[str]:
    return [f"- {step['machine']}: {f.span(step['start'], step['end'])}"
            for step in c.get("steps") or []]


def _request(c: dict[str, Any], lang: str) -> str:
    quantity = f" ({int(c['quantity'])})" if c.get("quantity") is not None else ""
    number = f" #{c['request']}" if c.get("request") is not None else ""
    return (f"permintaan produksi{number} untuk {c['product']}{quantity}" if lang == "id"
            else f"production request{number} for {c['product']}{quantity}")


def _request_placed_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    steps = _steps(c, f)
    return (f"Produksi {c['product']} dijadwalkan di {c['house']}",
            _letter(c, "id", f"Jadwal {c['house']} yang diterbitkan{_by(c, 'id')} menempatkan "
                    f"{_request(c, 'id')}.",
                    ("Mesin dan waktunya:\n" + "\n".join(steps)) if steps else "",
                    "Pemesanan ini sudah dikonfirmasi."))


def _request_placed_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    steps = _steps(c, f)
    return (f"Production of {c['product']} scheduled at {c['house']}",
            _letter(c, "en", f"The schedule of {c['house']} published{_by(c, 'en')} places your "
                    f"{_request(c, 'en')}.",
                    ("Machines and times:\n" + "\n".join(steps)) if steps else "",
                    "These bookings are confirmed."))


def _request_left_out_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    return (f"Produksi {c['product']} belum dijadwalkan di {c['house']}",
            _letter(c, "id", f"Jadwal {c['house']} yang diterbitkan{_by(c, 'id')} belum "
                    f"menempatkan {_request(c, 'id')}, karena {_why(c, 'id')}",
                    "Permintaan Anda tetap terbuka untuk penjadwalan berikutnya."))


def _request_left_out_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    return (f"Production of {c['product']} not scheduled yet at {c['house']}",
            _letter(c, "en", f"The schedule of {c['house']} published{_by(c, 'en')} does not "
                    f"place your {_request(c, 'en')} yet, because {_why(c, 'en')}",
                    "Your request stays open for the next schedule."))


# -- financing --------------------------------------------------------------------------------

def _loan_submitted_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    amount = f" sebesar {f.money(c['amount'])}" if c.get("amount") is not None else ""
    return (f"Pengajuan KUR {_cluster(c, 'klaster')} diajukan",
            _letter(c, "id", f"Pengajuan pinjaman KUR {_cluster(c, 'klaster')}{amount} telah "
                    f"diajukan{_by(c, 'id')} dan menunggu keputusan agregator."))


def _loan_submitted_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    amount = f" for {f.money(c['amount'])}" if c.get("amount") is not None else ""
    return (f"KUR loan application of {_cluster(c, 'cluster')} submitted",
            _letter(c, "en", f"The KUR loan application of {_cluster(c, 'cluster')}{amount} has "
                    f"been submitted{_by(c, 'en')} and awaits the aggregator's decision."))


def _tranche_released_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    total = (f"Total yang sudah dicairkan: {f.money(c['disbursed_total'])} dari "
             f"{f.money(c['approved'])}." if c.get("disbursed_total") is not None
             and c.get("approved") is not None else "")
    on = f" pada {f.date(c['on'])}" if c.get("on") else ""
    return (f"Dana KUR {_cluster(c, 'klaster')} dicairkan: {f.money(c['amount'])}",
            _letter(c, "id", f"Sebagian pinjaman KUR {_cluster(c, 'klaster')} sebesar "
                    f"{f.money(c['amount'])} telah dicairkan{on}.", total))


def _tranche_released_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    total = (f"Disbursed so far: {f.money(c['disbursed_total'])} of {f.money(c['approved'])}."
             if c.get("disbursed_total") is not None and c.get("approved") is not None else "")
    on = f" on {f.date(c['on'])}" if c.get("on") else ""
    return (f"KUR loan of {_cluster(c, 'cluster')} released: {f.money(c['amount'])}",
            _letter(c, "en", f"A tranche of {f.money(c['amount'])} of the KUR loan of "
                    f"{_cluster(c, 'cluster')} was released{on}.", total))


_DECISIONS = {
    "approved": ("disetujui", "approved"),
    "rejected": ("ditolak", "rejected"),
    "changes_requested": ("perlu diperbaiki", "returned for changes"),
}


def _decision(c: dict[str, Any], lang: str) -> str:
    decision = c["decision"]
    if decision not in _DECISIONS:
        raise ValueError(f"loan_decision: unknown decision {decision!r}")
    return _DECISIONS[decision][0 if lang == "id" else 1]


def _loan_decision_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    word = _decision(c, "id")
    amount = f"Jumlah: {f.money(c['amount'])}." if c.get("amount") is not None else ""
    note = f"Catatan: {_said(c['note'], 'id')}" if c.get("note") else ""
    return (f"Pengajuan KUR {_cluster(c, 'klaster')} {word}",
            _letter(c, "id", f"Pengajuan pinjaman KUR untuk {_cluster(c, 'klaster')} "
                    f"{word}{_by(c, 'id')}.", amount, note))


def _loan_decision_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    word = _decision(c, "en")
    amount = f"Amount: {f.money(c['amount'])}." if c.get("amount") is not None else ""
    note = f"Note: {_said(c['note'], 'en')}" if c.get("note") else ""
    return (f"KUR loan application of {_cluster(c, 'cluster')} {word}",
            _letter(c, "en", f"The KUR loan application of {_cluster(c, 'cluster')} has been "
                    f"{word}{_by(c, 'en')}.", amount, note))


def _installment_due_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    left = (f" ({int(c['days_left'])} hari lagi)" if c.get("days_left") is not None else "")
    return (f"Angsuran {c['loan']} jatuh tempo {f.date(c['due_on'])}",
            _letter(c, "id", f"Angsuran pinjaman {c['loan']} sebesar {f.money(c['amount'])} jatuh "
                    f"tempo pada {f.date(c['due_on'])}{left}."))


def _installment_due_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    left = (f" (in {int(c['days_left'])} days)" if c.get("days_left") is not None else "")
    return (f"Installment of {c['loan']} due on {f.date(c['due_on'])}",
            _letter(c, "en", f"An installment of {f.money(c['amount'])} on loan {c['loan']} is due "
                    f"on {f.date(c['due_on'])}{left}."))


def _installment_overdue_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    late = (f" Keterlambatan: {int(c['days_overdue'])} hari."
            if c.get("days_overdue") is not None else "")
    return (f"Angsuran {c['loan']} terlambat",
            _letter(c, "id", f"Angsuran pinjaman {c['loan']} sebesar {f.money(c['amount'])} yang "
                    f"jatuh tempo pada {f.date(c['due_on'])} belum dibayar.{late}",
                    "Mohon segera lakukan pembayaran."))


def _installment_overdue_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    late = (f" It is {int(c['days_overdue'])} days late."
            if c.get("days_overdue") is not None else "")
    return (f"Installment of {c['loan']} overdue",
            _letter(c, "en", f"The installment of {f.money(c['amount'])} on loan {c['loan']} due "
                    f"on {f.date(c['due_on'])} has not been paid.{late}", "Please pay it soon."))


# -- permits ----------------------------------------------------------------------------------

def _permit_expiring_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    number = f" nomor {c['number']}" if c.get("number") else ""
    left = f" ({int(c['days_left'])} hari lagi)" if c.get("days_left") is not None else ""
    return (f"Izin {c['permit']} untuk {c['product']} segera berakhir",
            _letter(c, "id", f"Izin {c['permit']}{number} untuk produk {c['product']} berakhir "
                    f"pada {f.date(c['expires_on'])}{left}.",
                    "Perpanjang izin sebelum tanggal itu agar produksi tidak terhenti."))


def _permit_expiring_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    number = f" number {c['number']}" if c.get("number") else ""
    left = f" (in {int(c['days_left'])} days)" if c.get("days_left") is not None else ""
    return (f"{c['permit']} permit for {c['product']} expires soon",
            _letter(c, "en", f"The {c['permit']} permit{number} of your product {c['product']} "
                    f"expires on {f.date(c['expires_on'])}{left}.",
                    "Renew it before then so that production is not stopped."))


def _permit_booking_at_risk_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    until = f" (berlaku sampai {f.date(c['expires_on'])})" if c.get("expires_on") else ""
    return (f"Izin {c['product']} tidak mencakup pemesanan {c['machine']}",
            _letter(c, "id", f"Pemesanan {c['machine']} pada {f.span(c['start'], c['end'])} untuk "
                    f"produk {c['product']} jatuh di luar masa berlaku izin {c['permit']}{until}.",
                    "Perpanjang izin atau pindahkan pemesanan; pengelola rumah produksi dapat "
                    "memberi pengecualian dengan alasan."))


def _permit_booking_at_risk_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    until = f" (valid until {f.date(c['expires_on'])})" if c.get("expires_on") else ""
    return (f"Permit of {c['product']} does not cover a booking of {c['machine']}",
            _letter(c, "en", f"The booking of {c['machine']} on {f.span(c['start'], c['end'])} for "
                    f"{c['product']} falls outside its {c['permit']} permit{until}.",
                    "Renew the permit or move the booking; a house manager may override with a "
                    "reason."))


def _permit_loan_at_risk_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    until = f" yang berlaku sampai {f.date(c['expires_on'])}" if c.get("expires_on") else ""
    return (f"Pengajuan pinjaman {c['loan']} ({c['cluster']}): izin produk bermasalah",
            _letter(c, "id", f"Produksi {c['product']} yang dibiayai pengajuan {c['loan']} "
                    f"{_cluster(c, 'klaster')} memerlukan izin {c['permit']}{until}, yang tidak mencakup "
                    "seluruh masa produksi."))


def _permit_loan_at_risk_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    until = f", valid until {f.date(c['expires_on'])}," if c.get("expires_on") else ""
    return (f"Loan application {c['loan']} ({c['cluster']}): product permit at risk",
            _letter(c, "en", f"Production of {c['product']} financed by application {c['loan']} "
                    f"of {_cluster(c, 'cluster')} needs a {c['permit']} permit{until} which does "
                    "not cover the whole production."))


def _permit_needs_review_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    return (f"Sertifikat halal {c['product']} perlu ditinjau ulang",
            _letter(c, "id", f"Alur produksi atau bahan produk {c['product']} berubah, sehingga "
                    f"sertifikat halalnya{' nomor ' + c['number'] if c.get('number') else ''} "
                    "perlu ditinjau ulang.",
                    "Sampai sertifikat dinyatakan berlaku kembali, produk ini tidak dapat "
                    "dipesan untuk produksi."))


def _permit_needs_review_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    return (f"Halal certificate of {c['product']} needs review",
            _letter(c, "en", f"The routing or ingredients of {c['product']} changed, so its halal "
                    f"certificate{' number ' + c['number'] if c.get('number') else ''} needs "
                    "review.",
                    "Until it is marked valid again, this product cannot be booked for "
                    "production."))


def _permit_rejected_id(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    number = f" nomor {c['number']}" if c.get("number") else ""
    return (f"Izin {c['permit']} untuk {c['product']} ditolak",
            _letter(c, "id", f"Data izin {c['permit']}{number} untuk {c['product']} yang Anda "
                    f"catat ditolak{_by(c, 'id')}.", _reason(c, "id"),
                    "Perbaiki nomor, tanggal atau dokumennya, lalu simpan lagi; sampai diperiksa "
                    "ulang, izin ini belum berlaku untuk pemesanan."))


def _permit_rejected_en(c: dict[str, Any], f: Formatter) -> tuple[str, str]:
    number = f" number {c['number']}" if c.get("number") else ""
    return (f"{c['permit']} permit for {c['product']} rejected",
            _letter(c, "en", f"The {c['permit']} permit{number} you recorded for {c['product']} "
                    f"was rejected{_by(c, 'en')}.", _reason(c, "en"),
                    "Correct its number, dates or document and save it again; until it is "
                    "checked again it does not count for bookings."))


_SLOT = ("machine", "start", "end")

TEMPLATES: dict[str, Template] = {
    "booking_confirmed": Template(_SLOT, _booking_confirmed_id, _booking_confirmed_en),
    "booking_held": Template(_SLOT, _booking_held_id, _booking_held_en),
    "booking_cancelled": Template(_SLOT, _booking_cancelled_id, _booking_cancelled_en),
    "booking_rejected": Template(_SLOT, _booking_rejected_id, _booking_rejected_en),
    "booking_moved": Template((*_SLOT, "old_start", "old_end"), _booking_moved_id,
                              _booking_moved_en),
    "request_placed": Template(("house", "product"), _request_placed_id, _request_placed_en),
    "request_left_out": Template(("house", "product", "why"), _request_left_out_id,
                                 _request_left_out_en),
    "loan_submitted": Template(("cluster",), _loan_submitted_id, _loan_submitted_en),
    "tranche_released": Template(("cluster", "amount"), _tranche_released_id,
                                 _tranche_released_en),
    "hold_expired": Template(_SLOT, _hold_expired_id, _hold_expired_en),
    "booking_downtime": Template((*_SLOT, "action"), _booking_downtime_id, _booking_downtime_en),
    "booking_calendar_change": Template((*_SLOT, "change"), _booking_calendar_change_id,
                                        _booking_calendar_change_en),
    "waitlist_slot_free": Template(_SLOT, _waitlist_slot_free_id, _waitlist_slot_free_en),
    "schedule_published": Template(("house",), _schedule_published_id, _schedule_published_en),
    "loan_decision": Template(("cluster", "decision"), _loan_decision_id, _loan_decision_en),
    "installment_due": Template(("loan", "due_on", "amount"), _installment_due_id,
                                _installment_due_en),
    "installment_overdue": Template(("loan", "due_on", "amount"), _installment_overdue_id,
                                    _installment_overdue_en),
    "unfunded_hold_released": Template(_SLOT, _unfunded_hold_released_id,
                                       _unfunded_hold_released_en),
    "permit_expiring": Template(("product", "permit", "expires_on"), _permit_expiring_id,
                                _permit_expiring_en),
    "permit_booking_at_risk": Template(("product", "permit", *_SLOT), _permit_booking_at_risk_id,
                                       _permit_booking_at_risk_en),
    "permit_loan_at_risk": Template(("cluster", "loan", "product", "permit"),
                                    _permit_loan_at_risk_id, _permit_loan_at_risk_en),
    "permit_needs_review": Template(("product",), _permit_needs_review_id,
                                    _permit_needs_review_en),
    "permit_rejected": Template(("product", "permit"), _permit_rejected_id, _permit_rejected_en),
}


def template_for(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise LookupError(f"unknown notification template {name!r}") from None


def render(name: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
    """The subject and body of template `name` in `language` ("id" or "en")."""
    template = template_for(name)
    missing = [k for k in template.needs if context.get(k) is None]
    if missing:
        raise ValueError(f"template {name!r} needs context keys: {', '.join(missing)}")
    lang = language if language in LANGUAGES else "id"
    # A reason or note the system wrote (stored in English, factoryshare.i18n) reads in `lang`.
    from factoryshare import i18n

    context = {**context, **{key: i18n.translate(context[key], lang) for key in ("reason", "note")
                             if isinstance(context.get(key), str)}}
    formatter = Formatter(lang, str(context.get("timezone") or DEFAULT_TIMEZONE))
    renderer = template.id if lang == "id" else template.en
    return renderer(context, formatter)
