"""Indonesian identity numbers and phone numbers: validated and normalised, or refused by field.

Each function returns the normalised value (digits only, or E.164 for phones) or raises
ValidationFailed naming the field, with a message a house manager understands.

Also here: the text no field may hold (NUL bytes, lone surrogates) and the last check every
flush makes against the columns (length, integer width), so that the database never refuses a
value with an error that names no field. Importing this module installs that check on every
SQLAlchemy session (the app does through api.schemas, the CLI through the services).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.orm import Mapper, Session
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.id import nik as _nik
from stdnum.id import npwp as _npwp

from factoryshare.errors import ValidationFailed
from factoryshare.i18n import N_

_SEPARATORS = re.compile(r"[\s.\-/]")


def _fail(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={field: [message]})


def _digits(value: object, field: str, label: str) -> str:
    if not isinstance(value, str):
        raise _fail(field, N_("The %(label)s must be written as text of digits.", label=label))
    return _SEPARATORS.sub("", value.strip())


def _birth_date(number: str) -> dt.date:
    """Digits 7-12 are DDMMYY; women add 40 to the day. Raises ValueError if impossible."""
    day, month, year = int(number[6:8]), int(number[8:10]), int(number[10:12])
    if day > 40:
        day -= 40
    # The century is not written; any real date in either century will do for validity.
    return dt.date(2000 + year, month, day) if (month, day) != (2, 29) else dt.date(2000, 2, 29)


def nik(value: object, field: str = "owner_nik") -> str:
    """A Nomor Induk Kependudukan: 16 digits with a real region code and birth date."""
    number = _digits(value, field, "NIK")
    if not re.fullmatch(r"\d{16}", number):
        raise _fail(field, N_("The NIK (KTP number) must be exactly 16 digits."))
    try:
        number = _nik.validate(number)
        _birth_date(number)
        return number
    except (StdnumError, ValueError):
        raise _fail(
            field,
            N_(
                "This NIK is not valid: check the region code (first 6 digits) and the date of "
                "birth (digits 7-12, day + 40 for women) against the KTP."
            ),
        ) from None


def nib(value: object, field: str = "nib") -> str:
    """A Nomor Induk Berusaha from OSS-RBA: 13 digits."""
    number = _digits(value, field, "NIB")
    if not re.fullmatch(r"\d{13}", number):
        raise _fail(field, N_("The NIB (from OSS) must be exactly 13 digits."))
    return number


def npwp(value: object, field: str = "npwp") -> str:
    """A tax number: the old 15 digits with its check digit, or the new 16 digits."""
    number = _digits(value, field, "NPWP")
    if not re.fullmatch(r"\d{15}|\d{16}", number):
        raise _fail(field, N_("The NPWP must be 15 digits (old format) or 16 digits."))
    try:
        return _npwp.compact(_npwp.validate(number))
    except StdnumError:
        raise _fail(field, N_("This NPWP is not valid: its check digit does not match.")) from None


def phone(value: object, field: str = "phone") -> str:
    """An Indonesian phone number (08..., 62..., +62..., with spaces, dots or dashes) as E.164
    `+62...`, checked against Indonesia's numbering plan by `phonenumbers`."""
    if not isinstance(value, str):
        raise _fail(field, N_("The phone number must be written as text."))
    raw = value.strip()
    if raw.startswith("62"):
        raw = "+" + raw  # written without the plus, as on many forms
    try:
        number = phonenumbers.parse(raw, "ID")
    except phonenumbers.NumberParseException:
        raise _fail(
            field, N_("Write an Indonesian phone number, e.g. 0812 3456 7890 or +62812...")
        ) from None
    if number.country_code != 62:
        raise _fail(field, N_("Write an Indonesian phone number, e.g. 0812 3456 7890 or +62812..."))
    if not phonenumbers.is_valid_number(number):
        raise _fail(field, N_("This phone number has the wrong number of digits."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- text any field may hold -------------------------------------------------------------------
# A NUL byte is refused by PostgreSQL and a lone surrogate (an unpaired "\ud800".."\udfff" JSON
# escape) cannot be written as UTF-8 at all; neither is ever part of a real name or note.

NUL_MESSAGE = N_("Text may not contain the NUL character (\\u0000).")
SURROGATE_MESSAGE = N_(
    "Text may not contain a lone surrogate (an unpaired \\ud800-\\udfff escape)."
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """What makes `value` unstorable as text, or None when it is fine."""
    if "\x00" in value:
        return NUL_MESSAGE
    if _SURROGATE.search(value):
        return SURROGATE_MESSAGE
    return None


# --- the last check before the database --------------------------------------------------------
# Whatever reaches a flush (from the API, a page, the CLI or a job, typed or computed) is checked
# against its column first, so that the database never refuses a value with an error that names
# no field: text within the column's length and free of NUL and lone surrogates (JSON included),
# integers within the column's width (INTEGER is 32 bits on PostgreSQL, BIGINT 64).

_INTEGER_BITS = ((sa.BigInteger, 64), (sa.SmallInteger, 16), (sa.Integer, 32))


def _column_type(column: sa.ColumnElement[Any]) -> sa.types.TypeEngine[Any]:
    kind = column.type
    while isinstance(kind, sa.types.TypeDecorator):
        kind = kind.impl_instance
    return kind


def _json_problem(value: Any) -> str | None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem is not None:
                return problem
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return None


@functools.cache
def _column_types(mapper: Mapper[Any]) -> dict[str, sa.types.TypeEngine[Any]]:
    """Each column attribute of a mapped class and its column's type, worked out once."""
    return {prop.key: _column_type(prop.columns[0]) for prop in mapper.column_attrs}


def column_problem(kind: sa.types.TypeEngine[Any], value: Any) -> str | None:
    """Why a column of type `kind` cannot store `value`, or None."""
    if value is None:
        return None
    if isinstance(kind, sa.JSON):
        return _json_problem(value)
    if isinstance(value, str) and isinstance(kind, sa.String):
        length = None if isinstance(kind, sa.Enum) else kind.length
        if length is not None and len(value) > length:
            return N_("At most %(length)s characters.", length=length)
        return text_problem(value)
    if isinstance(value, int) and not isinstance(value, bool) and isinstance(kind, sa.Integer):
        bits = next(b for t, b in _INTEGER_BITS if isinstance(kind, t))
        low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        if not low <= value <= high:
            return N_("Must be between %(low)s and %(high)s.", low=low, high=high)
    return None


def row_problems(obj: object) -> dict[str, list[str]]:
    """What in a new or changed object its table cannot store, by attribute."""
    state = sa.inspect(obj)
    new = state.pending or state.transient
    changed = state.dict.keys() if new else state.committed_state.keys()
    problems: dict[str, list[str]] = {}
    for key, kind in _column_types(state.mapper).items():
        if key not in changed or key not in state.dict:
            continue
        problem = column_problem(kind, state.dict[key])
        if problem is not None:
            problems[key] = [problem]
    return problems


@sa.event.listens_for(Session, "before_flush")
def _check_before_flush(session: Session, _context: Any, _instances: Any) -> None:
    problems: dict[str, list[str]] = {}
    for obj in [*session.new, *session.dirty]:
        problems.update(row_problems(obj))
    if problems:
        raise ValidationFailed(N_("Some values cannot be stored."), errors=problems)
