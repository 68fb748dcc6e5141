"""A manager's pages: what waits today (home), the house timeline (a Gantt chart drawn as
inline SVG on the server), the queue of held bookings and open requests, schedule runs (start,
review request by request against the published schedule, publish or discard), utilisation per
machine, recording a downtime, permit warnings, and closures and opening hours (previewed with
the bookings they hit). Every rule lives in the services called here; this module only lays
them out.

A manager may manage several houses: each page takes `?house=<id>` and offers a selector; a
house the manager does not manage is answered with 404, as the API does for objects out of scope.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from api.web import add_nav
from factoryshare.models import Role

add_nav("web.manager_home", _l("What waits"), roles={Role.manager})
add_nav("web.manager_timeline", _l("Timeline"), roles={Role.manager})
add_nav("web.manager_queue", _l("Queue"), roles={Role.manager})
add_nav("web.manager_runs", _l("Schedule runs"), roles={Role.manager})
add_nav("web.manager_utilisation", _l("Utilisation"), roles={Role.manager})
add_nav("web.manager_downtime", _l("Record a downtime"), roles={Role.manager})
add_nav("web.manager_permits", _l("Permit warnings"), roles={Role.manager})
add_nav("web.manager_calendar", _l("Closures and opening hours"), roles={Role.manager})

# The pages register their routes on the web blueprint when imported.
from api.web.manager import (  # noqa: E402,F401
    closures,
    downtimes,
    home,
    permits,
    queue,
    runs,
    timeline,
    utilisation,
)
