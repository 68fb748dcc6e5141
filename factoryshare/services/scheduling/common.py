"""What every module of the scheduling package shares: the limits of a run (horizon, time
limit, cleaning time between product families, a re-plan's time limit) and the rule that only
a house's managers (or an admin) schedule it (`house_managed`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from factoryshare.access import Actor, get_scoped
from factoryshare.errors import Forbidden
from factoryshare.i18n import N_
from factoryshare.models import ProductionHouse, Role

MAX_HORIZON = dt.timedelta(days=62)
MAX_TIME_LIMIT = 600
# Cleaning between product families longer than a working day is surely a typo.
MAX_SETUP_MINUTES = 8 * 60
REPLAN_TIME_LIMIT = 10


def house_managed(session: Session, actor: Actor, house_id: int) -> ProductionHouse:
    """The house, when the caller is an admin or one of its managers; 404 outside the caller's
    scope, 403 for a role that may not schedule or a manager of another house."""
    actor.require(Role.admin, Role.manager)
    house = get_scoped(session, actor, ProductionHouse, house_id)
    if not actor.manages(house.id):
        raise Forbidden(N_("Only this house's managers may schedule it."))
    return house
