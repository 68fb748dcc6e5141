"""Names and time in a house's problems: how a request becomes jobs and operations (job_id,
operation_key and the functions that read them back), the quantity and minutes of each lot, the
problem's minutes (minute) and the slot grid a house's problems are solved on."""

from __future__ import annotations

import datetime as dt
from typing import Any

from factoryshare.models.scheduling import ProductionRequest, RequestOperation
from factoryshare.services import calendar

# ---------------------------------------------------------------------------------------------
# Names in the problem. ONE place encodes and reads them: machine-<id> for a machine,
# request-<id>[-lot-<n>] for a job, operation-<id>[-lot-<n>] for an operation (n from 1; no
# suffix: the request in one lot).


def job_id(request_id: int, lot: int | None = None) -> str:
    return f"request-{request_id}" + (f"-lot-{lot}" if lot else "")


def operation_key(operation_id: int, lot: int | None = None) -> str:
    return f"operation-{operation_id}" + (f"-lot-{lot}" if lot else "")


def machine_name(machine_id: int) -> str:
    """A machine in the problem: machine-<id>."""
    return f"machine-{machine_id}"


def machine_id_of(name: str) -> int:
    """The id of a machine named by machine_name (a ValueError for a name it did not make)."""
    prefix, _, number = str(name).partition("-")
    if prefix != "machine" or not number.isdigit():
        raise ValueError(f"not a machine of the problem: {name!r}")
    return int(number)


def _read(name: str) -> tuple[int, int | None]:
    parts = str(name).split("-")
    lot = int(parts[3]) if len(parts) >= 4 and parts[2] == "lot" else None
    return int(parts[1]), lot


def request_of_job(job: str) -> tuple[int, int | None]:
    """(request id, lot or None) of a job id made by job_id."""
    return _read(job)


def request_id_of(job: str) -> int:
    return _read(job)[0]


def operation_of(key: str) -> tuple[int, int | None]:
    """(request operation id, lot or None) of an operation id made by operation_key."""
    return _read(key)


def split_in_lots(quantity: int, size: int | None) -> list[int]:
    """`quantity` in as few lots of at most `size` as it takes, as even as they can be (500 in
    lots of at most 120: five of 100); one lot when there is no size or it holds everything."""
    if not size or quantity <= size:
        return [quantity]
    count = -(-quantity // size)
    base, extra = divmod(quantity, count)
    return [base + 1] * extra + [base] * (count - extra)


def lot_quantities(request: ProductionRequest) -> list[int]:
    """The quantity of each lot of a request (its `lot_size`, see split_in_lots)."""
    return split_in_lots(request.quantity, request.lot_size)


def lot_minutes(request: ProductionRequest, op: RequestOperation, quantity: int) -> int:
    """Minutes of `op` for a lot of `quantity` units: its setup again, plus its run time per unit."""
    if quantity >= request.quantity:
        return op.minutes
    setup = op.setup_minutes or 0
    per_unit = (op.minutes - setup) / request.quantity
    return max(1, setup + round(per_unit * quantity))


def request_lots(request: ProductionRequest) -> list[tuple[int | None, int]]:
    """(lot number or None, quantity) for each lot of the request."""
    quantities = lot_quantities(request)
    if len(quantities) == 1:
        return [(None, quantities[0])]
    return list(enumerate(quantities, start=1))


def minute(start: dt.datetime, t: dt.datetime, *, up: bool) -> int:
    """`t` as whole minutes of problem time from `start` (rounded up when `up`)."""
    seconds = (t - start).total_seconds()
    whole = int(seconds // 60)
    return whole + 1 if up and seconds % 60 else whole


def grid_start(house: Any, start: dt.datetime, grid: int) -> dt.datetime:
    """The first instant at or after `start` on the house's slot grid (local midnight + k slots)."""
    if grid <= 1:
        return start
    local = start.astimezone(calendar.house_zone(house))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    seconds = (local - midnight).total_seconds()
    slots = -(-int(seconds) // (grid * 60))
    return (midnight + dt.timedelta(minutes=slots * grid)).astimezone(dt.UTC)


def house_grid(house: Any) -> int:
    """The slot grid a house's problems are solved on (1 when its slot does not divide a day)."""
    slot = int(house.slot_minutes or 1)
    return slot if slot > 1 and (24 * 60) % slot == 0 else 1
