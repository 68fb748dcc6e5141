"""Notification texts are Jinja templates whose words come from the gettext catalogue."""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
import tomllib
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from factoryshare import i18n, messages

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "factoryshare" / "templates" / "notifications"
UTC = dt.UTC
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _template_msgids() -> set[str]:
    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / "factoryshare"), [("templates/**.txt", "jinja2")]
        )
    }


def test_a_cancelled_booking_reads_from_its_template_in_indonesian_and_in_english():
    context = {
        "machine": "Oven",
        "start": dt.datetime(2026, 12, 1, 2, tzinfo=UTC),
        "end": dt.datetime(2026, 12, 1, 3, tzinfo=UTC),
        "timezone": "Asia/Makassar",
        "recipient": "Siti",
        "by": "Budi",
        "by_role": "manager",
        "price": 50_000,
        "reason": "machine downtime: motor rusak",
        "alternatives": [
            {
                "start": dt.datetime(2026, 12, 2, 2, tzinfo=UTC),
                "end": dt.datetime(2026, 12, 2, 3, tzinfo=UTC),
                "machine": "Oven 2",
            }
        ],
    }
    assert messages.render("booking_cancelled", "id", context) == (
        "Pemesanan dibatalkan: Oven, Selasa, 1 Desember 2026 10:00–11:00 WITA",
        "Halo Siti,\n\n"
        "Pemesanan Anda untuk Oven pada Selasa, 1 Desember 2026 10:00–11:00 WITA telah "
        "dibatalkan oleh Budi (pengelola rumah produksi).\n\n"
        "Alasan: mesin berhenti: motor rusak.\n\n"
        "Slot lain yang masih kosong:\n- Oven 2: Rabu, 2 Desember 2026 10:00–11:00 WITA\n\n"
        "Salam,\nfactoryshare\n",
    )
    assert messages.render("booking_cancelled", "en", context) == (
        "Booking cancelled: Oven, Tuesday 1 December 2026 10:00–11:00 WITA",
        "Hello Siti,\n\n"
        "Your booking of Oven on Tuesday 1 December 2026 10:00–11:00 WITA has been cancelled "
        "by Budi (the production house's manager).\n\n"
        "Reason: machine downtime: motor rusak.\n\n"
        "Other free slots:\n- Oven 2: Wednesday 2 December 2026 10:00–11:00 WITA\n\n"
        "Regards,\nfactoryshare\n",
    )


def test_an_installment_reminder_shows_rupiah_and_dates_the_indonesian_way():
    context = {
        "loan": "KUR-2026-001",
        "due_on": dt.date(2026, 12, 1),
        "amount": 1_521_097,
        "days_left": 3,
    }
    subject, body = messages.render("installment_due", "id", context)
    assert subject == "Angsuran KUR-2026-001 jatuh tempo 1 Desember 2026"
    assert (
        "Angsuran pinjaman KUR-2026-001 sebesar Rp1.521.097 jatuh tempo pada "
        "1 Desember 2026 (3 hari lagi)."
    ) in body
    subject, body = messages.render("installment_due", "en", context)
    assert subject == "Installment of KUR-2026-001 due on 1 December 2026"
    assert (
        "An installment of Rp1.521.097 on loan KUR-2026-001 is due on 1 December 2026 (in 3 days)."
    ) in body


def test_every_notification_has_its_template_and_every_template_a_notification():
    files = {path.stem for path in TEMPLATES.glob("*.txt") if not path.name.startswith("_")}
    assert files == set(messages.TEMPLATES)


def test_every_text_of_the_notification_templates_has_an_indonesian_translation():
    with open(ROOT / "api/translations/id/LC_MESSAGES/messages.po", "rb") as f:
        catalogue = read_po(f)
    compiled = i18n.translations("id")
    msgids = _template_msgids()
    assert len(msgids) > 50  # the extractor finds the templates' texts at all
    problems = []
    for msgid in sorted(msgids):
        entry = catalogue.get(msgid)
        if entry is None or not entry.string or entry.fuzzy:
            problems.append(f"no Indonesian: {msgid!r}")
        elif sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(entry.string)):
            problems.append(f"placeholders differ: {msgid!r} -> {entry.string!r}")
        elif compiled.gettext(msgid) != entry.string:
            problems.append(f"not compiled into the .mo: {msgid!r}")
    assert not problems, "\n".join(problems)


def test_the_package_ships_the_notification_templates():
    with open(ROOT / "pyproject.toml", "rb") as f:
        globs = tomllib.load(f)["tool"]["setuptools"]["package-data"]["factoryshare"]
    for path in TEMPLATES.glob("*.txt"):
        relative = path.relative_to(ROOT / "factoryshare").as_posix()
        assert any(fnmatch.fnmatch(relative, glob) for glob in globs), relative


def test_make_translations_extracts_the_notification_templates():
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / "factoryshare"), method_map, options_map
        )
    }
    assert _template_msgids() <= found
