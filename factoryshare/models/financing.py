"""KUR financing reference data: dated KUR schemes (rules change by regulation, so they are rows)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Date, Enum, Integer, String, UniqueConstraint, BigInteger
from sqlalchemy.orm import Mapped, mapped_column

from factoryshare.db import Base, IdType


class KurSchemeCode(str, enum.Enum):
    super_mikro = "super_mikro"
    mikro = "mikro"
    kecil = "kecil"
    khusus = "khusus"


class KurScheme(Base):
    """One KUR scheme as valid between two dates (valid_to NULL = still valid)."""

    __tablename__ = "kur_schemes"
    __label__ = "KUR scheme"
    __table_args__ = (
        UniqueConstraint("code", "valid_from", name="uq_kur_schemes_code_valid_from"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range"),
        CheckConstraint("ceiling > 0", name="ceiling_positive"),
        CheckConstraint("annual_rate_bps >= 0", name="rate_non_negative"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    code: Mapped[KurSchemeCode] = mapped_column(
        Enum(KurSchemeCode, native_enum=False, create_constraint=True, length=20,
             name="kur_scheme_code")
    )
    name: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    min_amount: Mapped[int] = mapped_column(BigInteger)
    ceiling: Mapped[int] = mapped_column(BigInteger)
    annual_rate_bps: Mapped[int] = mapped_column(Integer)
    max_tenor_working_capital_months: Mapped[int] = mapped_column(Integer)
    max_tenor_investment_months: Mapped[int] = mapped_column(Integer)
    turnover_cap: Mapped[int] = mapped_column(BigInteger)
    npwp_required_above: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
