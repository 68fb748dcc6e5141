"""Schedule runs: a manager queues a solve of the house's open requests; workers run it; the
manager reviews its changes against the published schedule and publishes or discards it.

A run answers at once with status `queued`; a worker (factoryshare/worker.py) claims it.

Publishing and discarding lock the run's row first and read its status after the lock
(factoryshare/locking.py): of a publish and a discard at once one wins, the other answers
409 `invalid_transition`, and bookings exist only if the publish won.

The scope rule of schedule runs is registered here: an admin reads every run, a manager the
runs of the houses it manages, nobody else any.

The package by area (callers import from the package, which re-exports every public name):
- common: the limits of a run and the rule that only a house's managers schedule it;
- queue: queue a run, a re-plan or a run again; read, list and discard runs; a run's problem;
- changes: a run's proposal against the published schedule (new, moved, unchanged, dropped)
  and what changed in it since the run was solved;
- publishing: publish a run all or nothing (or find it stale), and tell the members.
"""

from __future__ import annotations

from factoryshare.services.scheduling.changes import (
    booked_end,
    changed_since_solve,
    diff_run,
    proposed_changes,
    solved_grid,
)
from factoryshare.services.scheduling.common import (
    MAX_HORIZON,
    MAX_SETUP_MINUTES,
    MAX_TIME_LIMIT,
    REPLAN_TIME_LIMIT,
    house_managed,
)
from factoryshare.services.scheduling.publishing import PUBLISHABLE, StaleRun, publish_run
from factoryshare.services.scheduling.queue import (
    DISCARDABLE,
    discard_run,
    get_run,
    list_house_runs,
    list_runs,
    problem_of,
    queue_again,
    queue_replan,
    queue_run,
)

__all__ = [
    "DISCARDABLE",
    "MAX_HORIZON",
    "MAX_SETUP_MINUTES",
    "MAX_TIME_LIMIT",
    "PUBLISHABLE",
    "REPLAN_TIME_LIMIT",
    "StaleRun",
    "booked_end",
    "changed_since_solve",
    "diff_run",
    "discard_run",
    "get_run",
    "house_managed",
    "list_house_runs",
    "list_runs",
    "problem_of",
    "proposed_changes",
    "publish_run",
    "queue_again",
    "queue_replan",
    "queue_run",
    "solved_grid",
]
