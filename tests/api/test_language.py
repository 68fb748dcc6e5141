"""The API speaks the reader's language: the signed-in user's `language`, else the request's
`Accept-Language`, else Indonesian. Codes never change; only the words do.

The catalogue tests at the end keep every message translatable: they extract the messages
from the source as `make translations` does and fail, saying how to fix it, when one has no
Indonesian translation or a service raises an error with words not marked with N_.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from factoryshare import clock as product_clock
from factoryshare import i18n
from factoryshare.models import Role
from factoryshare.services import calendar
from tests.factories.bookings import at, working_day

ROOT = Path(__file__).resolve().parents[2]
BOOKINGS = "/api/v1/bookings"
HOW_TO_FIX = (
    "Run `make translations` (it extracts every N_()/_() text from api/ and factoryshare/ "
    "into api/translations/messages.pot and merges it into each language's messages.po), "
    "write the Indonesian msgstr of each message below in "
    "api/translations/id/LC_MESSAGES/messages.po (keep its %(name)s placeholders), then run "
    "`make translations` again to compile the .mo files, and commit the .po and .mo files."
)


def _headers(token_for, user, **extra):
    return {**token_for(user), **extra}


def _slot(day=None):
    day = day or working_day()
    return {"start": at(day, "09:00").isoformat(), "end": at(day, "10:00").isoformat()}


# --- the same answer in two languages ------------------------------------------------------


def test_a_409_answers_in_indonesian_for_an_indonesian_user_and_in_english_for_an_english_one(
    client, make_machine, make_member, make_user, token_for, make_booking
):
    machine = make_machine()
    member = make_member(house_id=machine.house_id)
    slot = _slot()
    make_booking(
        machine=machine,
        start_at=dt.datetime.fromisoformat(slot["start"]),
        end_at=dt.datetime.fromisoformat(slot["end"]),
    )
    body = {"machine_id": machine.id, **slot}

    as_id = client.post(
        BOOKINGS, json=body, headers=token_for(make_user(Role.member, member=member, language="id"))
    )
    as_en = client.post(
        BOOKINGS, json=body, headers=token_for(make_user(Role.member, member=member, language="en"))
    )

    assert (as_id.status_code, as_id.json["code"]) == (409, "booking_conflict")
    assert (as_en.status_code, as_en.json["code"]) == (409, "booking_conflict")
    assert as_id.json["message"] == (
        "Mesin ini sudah dipesan pada waktu itu. Silakan pilih slot lain."
    )
    assert as_en.json["message"] == (
        "This machine is already booked at that time. Please choose another slot."
    )
    assert as_id.headers["Content-Language"] == "id"
    assert as_en.headers["Content-Language"] == "en"


def test_a_422_says_the_service_and_marshmallow_messages_in_the_users_language(
    client, make_machine, make_member, make_user, token_for
):
    machine = make_machine()
    member = make_member(house_id=machine.house_id)
    indonesian = token_for(make_user(Role.member, member=member, language="id"))
    english = token_for(make_user(Role.member, member=member, language="en"))
    day = working_day()
    backwards = {
        "machine_id": machine.id,
        "start": at(day, "10:00").isoformat(),
        "end": at(day, "09:00").isoformat(),
    }

    r_id = client.post(BOOKINGS, json=backwards, headers=indonesian)
    r_en = client.post(BOOKINGS, json=backwards, headers=english)
    assert (r_id.status_code, r_id.json["code"]) == (422, "validation_failed")
    assert r_id.json["message"] == "Waktu selesai harus setelah waktu mulai."
    assert r_id.json["errors"] == {"end": ["Harus setelah waktu mulai."]}
    assert r_en.json["message"] == "The end must be after the start."
    assert r_en.json["errors"] == {"end": ["Must be after start."]}

    # marshmallow's own messages: a missing field, a wrong type, a length with its number.
    r_id = client.post(
        BOOKINGS,
        json={"machine_id": "x", "start": backwards["start"], "note": "n" * 501},
        headers=indonesian,
    )
    r_en = client.post(
        BOOKINGS,
        json={"machine_id": "x", "start": backwards["start"], "note": "n" * 501},
        headers=english,
    )
    assert r_id.status_code == r_en.status_code == 422
    assert r_id.json["message"] == "Beberapa isian tidak valid."
    assert r_id.json["errors"]["end"] == ["Isian wajib ini belum diisi."]
    assert r_id.json["errors"]["machine_id"] == ["Bukan bilangan bulat yang valid."]
    assert r_id.json["errors"]["note"] == ["Panjangnya harus antara 0 dan 500."]
    assert r_en.json["message"] == "Some fields are invalid."
    assert r_en.json["errors"]["end"] == ["Missing data for required field."]
    assert r_en.json["errors"]["note"] == ["Length must be between 0 and 500."]


def test_a_404_names_the_object_in_the_users_language(client, make_user, token_for):
    r_id = client.get(f"{BOOKINGS}/999999", headers=token_for(make_user(Role.admin, language="id")))
    r_en = client.get(f"{BOOKINGS}/999999", headers=token_for(make_user(Role.admin, language="en")))
    assert (r_id.status_code, r_id.json["code"]) == (404, "not_found")
    assert (r_en.status_code, r_en.json["code"]) == (404, "not_found")
    assert r_id.json["message"] == "Pemesanan 999999 tidak ditemukan."
    assert r_en.json["message"] == "Booking 999999 was not found."


def test_signed_out_the_api_answers_in_indonesian_unless_accept_language_asks_for_english(
    client, make_user
):
    user = make_user()
    wrong = {"email": user.email, "password": "not-the-password"}
    default = client.post("/api/v1/auth/token", json=wrong)
    english = client.post(
        "/api/v1/auth/token", json=wrong, headers={"Accept-Language": "en-GB,en;q=0.9"}
    )
    indonesian = client.post(
        "/api/v1/auth/token", json=wrong, headers={"Accept-Language": "id-ID,id;q=0.9,en;q=0.5"}
    )
    assert {r.json["code"] for r in (default, english, indonesian)} == {"invalid_credentials"}
    assert default.json["message"] == indonesian.json["message"] == "Surel atau kata sandi salah."
    assert english.json["message"] == "Wrong e-mail or password."

    missing_id = client.get(BOOKINGS)
    missing_en = client.get(BOOKINGS, headers={"Accept-Language": "en"})
    assert missing_id.status_code == missing_en.status_code == 401
    assert missing_id.json["message"] == "Masuk dulu: kirim 'Authorization: Bearer <token>'."
    assert missing_en.json["message"] == "Sign in first: send 'Authorization: Bearer <token>'."
    unknown = client.get("/api/v1/no-such-thing", headers={"Accept-Language": "en"})
    assert (
        unknown.status_code == 404
        and unknown.json["message"] == "Nothing is found at this address."
    )


def test_a_signed_in_users_language_wins_over_accept_language(client, make_user, token_for):
    headers = _headers(token_for, make_user(Role.admin, language="id"), **{"Accept-Language": "en"})
    r = client.get(f"{BOOKINGS}/999999", headers=headers)
    assert r.json["message"] == "Pemesanan 999999 tidak ditemukan."


# --- holiday names -------------------------------------------------------------------------


def _next_weekday_holiday(days: int = 55) -> dt.date:
    day = product_clock.now().date() + dt.timedelta(days=2)
    for _ in range(days):
        if day.weekday() < 5 and calendar.holiday_name(day) is not None:
            return day
        day += dt.timedelta(days=1)
    pytest.skip(f"no weekday public holiday in the next {days} days")


def test_closed_days_name_the_holidays_in_the_users_language(
    client, make_house, make_user, token_for
):
    house = make_house()
    r_id = client.get(
        f"/api/v1/houses/{house.id}/closed-days",
        query_string={"year": 2026},
        headers=token_for(make_user(Role.admin, language="id")),
    )
    r_en = client.get(
        f"/api/v1/houses/{house.id}/closed-days",
        query_string={"year": 2026},
        headers=token_for(make_user(Role.admin, language="en")),
    )
    names_id = {d["date"]: d["name"] for d in r_id.json["days"]}
    names_en = {d["date"]: d["name"] for d in r_en.json["days"]}
    assert names_id["2026-08-17"] == "Hari Kemerdekaan Republik Indonesia"
    assert names_en["2026-08-17"] == "Independence Day"
    assert names_id["2026-12-25"] == "Hari Raya Natal"
    assert names_en["2026-12-25"] == "Christmas Day"


def test_booking_on_a_holiday_is_a_409_holiday_named_in_the_users_language(
    client, make_house, make_machine, make_member, make_user, token_for
):
    holiday = _next_weekday_holiday()
    house = make_house(
        opening_hours={
            d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        }
    )
    machine = make_machine(house=house)
    member = make_member(house_id=house.id)
    body = {"machine_id": machine.id, **_slot(holiday)}
    r_id = client.post(
        BOOKINGS, json=body, headers=token_for(make_user(Role.member, member=member, language="id"))
    )
    r_en = client.post(
        BOOKINGS, json=body, headers=token_for(make_user(Role.member, member=member, language="en"))
    )
    name = calendar.holiday_name(holiday)
    assert (r_id.status_code, r_id.json["code"]) == (409, "holiday")
    assert (r_en.status_code, r_en.json["code"]) == (409, "holiday")
    assert r_id.json["details"]["holiday"] == name.translate("id")
    assert r_en.json["details"]["holiday"] == name.translate("en")
    assert name.translate("id") != name.translate("en")
    assert name.translate("id") in r_id.json["message"]
    assert r_id.json["message"].startswith("Rumah produksi tutup pada ")
    assert r_en.json["message"].startswith("The house is closed on ")
    assert r_id.json["details"]["date"] == r_en.json["details"]["date"] == holiday.isoformat()


# --- texts kept in the database ------------------------------------------------------------


def test_a_system_cancel_reason_reads_in_each_readers_language(
    client, make_machine, make_member, make_user, token_for
):
    machine = make_machine()
    member = make_member(house_id=machine.house_id)
    member_headers = token_for(make_user(Role.member, member=member, language="id"))
    manager_headers = token_for(make_user(Role.manager, houses=[machine.house], language="en"))
    booking = client.post(
        BOOKINGS, json={"machine_id": machine.id, **_slot()}, headers=member_headers
    ).json
    r = client.post(f"{BOOKINGS}/{booking['id']}/cancel", json={}, headers=member_headers)
    assert r.status_code == 200, r.json
    assert r.json["cancelled_reason"] == "dibatalkan"
    seen_by_manager = client.get(f"{BOOKINGS}/{booking['id']}", headers=manager_headers).json
    assert seen_by_manager["cancelled_reason"] == "cancelled"


def test_stored_system_texts_with_parameters_are_known_back_and_typed_text_is_kept():
    assert i18n.translate("machine downtime: Motor rusak", "id") == "mesin berhenti: Motor rusak"
    assert i18n.translate("Production request 12, step 2", "id") == (
        "Permintaan produksi 12, langkah 2"
    )
    assert i18n.translate("re-planned by schedule run 7", "en") == "re-planned by schedule run 7"
    assert i18n.translate("Mesin rusak, maaf", "en") == "Mesin rusak, maaf"


# --- the catalogue -------------------------------------------------------------------------


def _extracted() -> dict[str, str]:
    """Every msgid `make translations` extracts, with where it comes from."""
    found: dict[str, str] = {}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "_l": None}
    for folder, method_map in (
        ("factoryshare", [("templates/**.txt", "jinja2"), ("**.py", "python")]),
        ("api", [("templates/**.html", "jinja2"), ("**.py", "python")]),
    ):
        for filename, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / folder), method_map, keywords=keywords
        ):
            for msgid in message if isinstance(message, tuple) else (message,):
                if msgid:
                    found.setdefault(msgid, f"{folder}/{filename}")
    return found


def _indonesian() -> dict[str, object]:
    with open(ROOT / "api/translations/id/LC_MESSAGES/messages.po", "rb") as f:
        catalogue = read_po(f)
    entries: dict[str, object] = {}
    for m in catalogue:
        for msgid in m.id if isinstance(m.id, tuple) else (m.id,):
            if msgid:
                entries.setdefault(msgid, m)
    return entries


def test_every_message_in_the_source_has_an_indonesian_translation():
    catalogue = _indonesian()
    missing = []
    for msgid, where in sorted(_extracted().items()):
        entry = catalogue.get(msgid)
        strings = entry.string if entry is not None else None  # type: ignore[attr-defined]
        text = strings[0] if isinstance(strings, tuple) else strings
        if entry is None or not text or entry.fuzzy:  # type: ignore[attr-defined]
            missing.append(f"  {where}: {msgid!r}")
    assert not missing, (
        f"{len(missing)} message(s) have no Indonesian translation.\n"
        f"{HOW_TO_FIX}\n" + "\n".join(missing)
    )


def test_every_msgid_of_the_catalogue_is_translated_and_compiled():
    translations = i18n.translations("id")
    problems = []
    placeholder = re.compile(r"%\(\w+\)[sd]")
    for msgid, entry in sorted(_indonesian().items()):
        string = entry.string  # type: ignore[attr-defined]
        if isinstance(string, tuple):
            continue  # plural forms: pybabel checks them when compiling
        if not string:
            problems.append(f"  no translation: {msgid!r}")
        elif sorted(placeholder.findall(msgid)) != sorted(placeholder.findall(string)):
            problems.append(f"  placeholders differ: {msgid!r} -> {string!r}")
        elif translations.gettext(msgid) != string:
            problems.append(f"  not compiled into the .mo: {msgid!r}")
    assert not problems, f"{HOW_TO_FIX}\n" + "\n".join(problems)


_ERRORS = {
    "ValidationFailed",
    "Conflict",
    "NotFound",
    "Forbidden",
    "Unauthorized",
    "Locked",
    "InvalidTransition",
    "DomainError",
}


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _is_words(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(node.value)
    )


def test_no_error_is_raised_with_words_not_marked_for_translation():
    """`raise Conflict("...")` would answer in English whatever the reader's language."""
    unmarked = []
    for folder in ("factoryshare", "api"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts or "web" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or _name(node.func) not in _ERRORS:
                    continue
                texts = [a for a in node.args[:1] if _is_words(a)]
                for keyword in node.keywords:
                    if keyword.arg == "errors" and isinstance(keyword.value, ast.Dict):
                        for value in keyword.value.values:
                            items = value.elts if isinstance(value, ast.List) else [value]
                            texts.extend(item for item in items if _is_words(item))
                for text in texts:
                    where = f"{path.relative_to(ROOT)}:{text.lineno}"
                    unmarked.append(f"  {where}: {ast.unparse(text)[:80]}")
    assert not unmarked, (
        "Errors raised with words not marked for translation: wrap each text in "
        "factoryshare.i18n.N_, with its values as parameters, e.g. "
        'N_("You can book at most %(days)s days ahead.", days=n) instead of an f-string; then '
        + HOW_TO_FIX
        + "\n"
        + "\n".join(unmarked)
    )


def test_a_notification_says_a_stored_system_reason_in_the_recipients_language():
    from factoryshare import messages

    context = {
        "machine": "Oven",
        "house": "RPB Bandung",
        "price": 50_000,
        "start": dt.datetime(2026, 12, 1, 2, tzinfo=dt.UTC),
        "end": dt.datetime(2026, 12, 1, 3, tzinfo=dt.UTC),
        "reason": "machine downtime: motor rusak",
    }
    _subject, body_id = messages.render("booking_cancelled", "id", context)
    _subject, body_en = messages.render("booking_cancelled", "en", context)
    assert "mesin berhenti: motor rusak" in body_id and "machine downtime" not in body_id
    assert "machine downtime: motor rusak" in body_en
