"""The bare baseline of benchmarks/api_bench.py: Flask and SQLAlchemy Core, nothing else.

POST /bookings inserts one row into factoryshare's own `bookings` table (the same exclusion
constraint, the same indexes) and answers 201 with its id: BEGIN, INSERT ... RETURNING,
COMMIT. No sign-in, no rules, no serialiser: it is the limit a booking POST is measured
against, served by the same gunicorn settings as factoryshare.

    DATABASE_URL=postgresql+psycopg://... gunicorn -w 2 bare_app:app   (from benchmarks/)
"""

from __future__ import annotations

import datetime as dt
import os

from flask import Flask, jsonify, request
from sqlalchemy import MetaData, Table, create_engine, insert
from sqlalchemy.exc import DBAPIError

engine = create_engine(os.environ["DATABASE_URL"], pool_size=4, max_overflow=0)
bookings = Table("bookings", MetaData(), autoload_with=engine)
app = Flask(__name__)


@app.post("/bookings")
def create_booking():  # type: ignore[no-untyped-def]
    body = request.get_json()
    now = dt.datetime.now(dt.UTC)
    start = dt.datetime.fromisoformat(body["start"]).astimezone(dt.UTC)
    end = dt.datetime.fromisoformat(body["end"]).astimezone(dt.UTC)
    try:
        with engine.begin() as conn:
            booking_id = conn.execute(
                insert(bookings)
                .values(
                    machine_id=body["machine_id"],
                    member_id=body["member_id"],
                    start_at=start,
                    end_at=end,
                    status="confirmed",
                    source="direct",
                    hourly_rate=25_000,
                    price=25_000,
                    note="",
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
                .returning(bookings.c.id)
            ).scalar_one()
    except DBAPIError:
        return jsonify(code="slot_taken"), 409
    return jsonify(id=booking_id), 201
