"""Factories for permits and permit overrides; food products that need permits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factoryshare import clock
from factoryshare.models import Product, ProductKind, Sector
from factoryshare.models.permits import (
    Permit,
    PermitOverride,
    PermitStatus,
    PermitType,
    PermitVerification,
)


def permit_type(db: Session, code: str) -> PermitType:
    ptype = db.scalars(select(PermitType).where(PermitType.code == code)).one()
    return ptype


def pirt_number(expiry_year: int) -> str:
    return f"2320101020123-{expiry_year % 100:02d}"


@pytest.fixture()
def make_food_product(db: Session, make_product) -> Callable[..., Product]:  # type: ignore[no-untyped-def]
    """A processed culinary product: it needs P-IRT or BPOM MD/ML, and halal."""

    def make(**overrides: Any) -> Product:
        values: dict[str, Any] = {
            "sector": Sector.culinary,
            "kind": ProductKind.processed_food,
            "family": "halal",
        }
        values.update(overrides)
        return make_product(**values)

    return make


@pytest.fixture()
def make_permit(db: Session) -> Callable[..., Permit]:
    """A permit row as stored (no validation); `code` picks the type. Verified unless
    `verification=` says otherwise (a member's own entry through the service is submitted)."""

    def make(product: Product | None = None, code: str = "pirt", **overrides: Any) -> Permit:
        ptype = permit_type(db, code)
        today = clock.now().date()
        values: dict[str, Any] = {
            "member_id": overrides.pop("member_id", product.member_id if product else None),
            "product_id": product.id if product is not None else None,
            "permit_type_id": ptype.id,
            "number": "",
            "issuer": ptype.issuer,
            "issued_on": today - dt.timedelta(days=365),
            "expires_on": None if ptype.expiry.value == "none" else today + dt.timedelta(days=400),
            "status": PermitStatus.active,
            "verification": PermitVerification.verified,
            "reminders_sent": [],
        }
        values.update(overrides)
        if code == "pirt" and not values["number"] and values["expires_on"] is not None:
            values["number"] = pirt_number(values["expires_on"].year)
        elif code == "halal" and not values["number"]:
            values["number"] = "ID32110000123450124"
        permit = Permit(**values)
        db.add(permit)
        db.flush()
        return permit

    return make


@pytest.fixture()
def make_permit_override(db: Session) -> Callable[..., PermitOverride]:
    def make(product: Product, **overrides: Any) -> PermitOverride:
        now = clock.now()
        values: dict[str, Any] = {
            "product_id": product.id,
            "reason": "Izin sedang diperpanjang",
            "valid_from": now - dt.timedelta(days=1),
            "valid_until": now + dt.timedelta(days=60),
            "revoked": False,
        }
        values.update(overrides)
        obj = PermitOverride(**values)
        db.add(obj)
        db.flush()
        return obj

    return make
