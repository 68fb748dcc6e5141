"""What the modules of the run review share: why a plan left a request out in words
(`why_words`), rupiah for working minutes at an hourly rate (`rupiah_for`), a moment in the
house's zone (`house_time`). Who reads a run's review and a house's utilisation is
`access.managed_house`: the house's managers and admins (another house is 404, a member 403).
"""

from __future__ import annotations

import datetime as dt

from factoryshare import i18n
from factoryshare.i18n import N_
from factoryshare.models import ProductionHouse
from factoryshare.services import calendar


def why_words(kind: str, *, to_member: bool = False) -> i18n.Message:
    """Why a plan left a request out, in words for its kind, to its member or to a manager."""
    if kind == "no_machine":
        return N_("no machine of the house can do one of its steps.")
    if kind == "no_window":
        return N_(
            "one of its steps takes longer than its machines are open in one go before it is due."
        )
    if kind == "deadline":
        return N_("it cannot be finished by its deadline, or before a permit it needs runs out.")
    if kind == "share_cap":
        return (
            N_("it would take you above your share of the house's scarce machines.")
            if to_member
            else N_("it would take the member above its share of the house's scarce machines.")
        )
    return (
        N_("the machines are taken for the planned period; the manager can plan it in a later run.")
        if to_member
        else N_("the machines are taken for the planned period.")
    )


def rupiah_for(minutes: int, hourly_rate: int) -> int:
    """minutes x hourly_rate / 60 in whole rupiah, half to even (exact integer arithmetic)."""
    whole, rest = divmod(minutes * hourly_rate, 60)
    if 2 * rest > 60 or (2 * rest == 60 and whole % 2):
        whole += 1
    return whole


def house_time(house: ProductionHouse, t: dt.datetime | None) -> dt.datetime | None:
    """`t` in the house's zone (None stays None)."""
    return None if t is None else t.astimezone(calendar.house_zone(house))
