"""Rows written with plain SQL into a database migrated only part of the way, for tests of
what a later migration does to data that already exists."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

CREATED_AT = "2026-11-01 00:00:00.000000"


def insert_house_and_member(conn: Connection, *, business_name: str, sector: str) -> None:
    """House 7 (Asia/Jakarta) and its member 3, owned by Asep, as the early schema stores them."""
    conn.execute(
        text(
            "INSERT INTO production_houses (id, name, address, region, timezone, opening_hours,"
            " slot_minutes, requires_confirmation, hold_minutes, max_days_ahead, contact_phone,"
            " contact_email, created_at) VALUES (7, 'Rumah', '', '', 'Asia/Jakarta', '{}', 30, 0,"
            " 60, 60, '', '', :at)"
        ),
        {"at": CREATED_AT},
    )
    conn.execute(
        text(
            "INSERT INTO members (id, house_id, business_name, nib, owner_name, owner_nik, sector,"
            " phone, email, address, created_at) VALUES (3, 7, :name, '1234567890123',"
            " 'Asep', '3205101203790001', :sector, '', '', '', :at)"
        ),
        {"name": business_name, "sector": sector, "at": CREATED_AT},
    )
