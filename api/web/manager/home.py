"""The manager's home: what waits today (agenda.house_agenda), each count with its page."""

from __future__ import annotations

from flask import render_template

from api.database import db
from api.web import actor, bp, page
from api.web.manager.common import house_in_view
from factoryshare.models import Role
from factoryshare.services import agenda


@bp.route("/manager")
@page(Role.manager)
def manager_home():  # type: ignore[no-untyped-def]
    house, managed = house_in_view()
    waiting = agenda.house_agenda(db(), actor(), house.id)
    return render_template("manager/home.html", house=house, houses=managed, agenda=waiting)
