"""Turning a house into a solver problem, and a solution back into a run's proposal.

Time in the problem is whole minutes from the run's horizon start (UTC). Machines are open
where `calendar.open_windows` says (opening hours less holidays, closures and downtimes);
live bookings are fixed time; each open request is a job whose operations may run on every
active machine of the house with the operation's capability.

A re-plan (after a downtime hit published work) makes jobs of the hit requests only: their
operations not yet started are placed again, everything else stays fixed, and stability keeps
each re-placed operation as close as it can to where it was published.

Policies the run was asked for are resolved here, next to the problem, into plain data kept
on the run (`policies["resolved"]`), so the worker and any replay use exactly the same rules.

Real houses (see README "Solver format: fields for real houses"):
- a step whose capability is `pausable` may pause while its machine is closed;
- the problem is on the house's slot grid (`grid` = slot_minutes; the horizon start is moved
  up to the next slot of the house's day, so time 0 is on it) and the published bookings sit
  on the same grid as members' own;
- each machine's `cost_per_hour` is its hourly rate; the cost only breaks ties (OBJECTIVE);
- a request in lots (`lot_size`) is one job per lot, `request-<id>-lot-<n>`, its operations
  `operation-<op id>-lot-<n>` (job_id / operation_key; request_of_job / operation_of read them
  back); a request is placed only when every lot is;
- in a re-plan, published work starting within the house's `frozen_hours` is frozen.

The package by area, none reaching into another's private helpers:
- names: the jobs' and operations' names, a request's lots, the problem's minutes and the
  house's slot grid;
- published: the bookings published runs made, which a re-plan starts from;
- options: how a problem is solved (the wall clock, or reproducibly);
- problem: build_problem with the machines' and the fixed bookings' entries (which the
  request estimate builds its small problem from too), the objective's weights and the run's
  resolved policies;
- results: store_solution, the KPIs and why a request was left out.
"""

from factoryshare.services.solving.names import (
    grid_start,
    house_grid,
    job_id,
    lot_minutes,
    lot_quantities,
    machine_id_of,
    machine_name,
    minute,
    operation_key,
    operation_of,
    request_id_of,
    request_lots,
    request_of_job,
    split_in_lots,
)
from factoryshare.services.solving.options import REPRODUCIBLE_WALL_GUARD, solve_options
from factoryshare.services.solving.problem import (
    OBJECTIVE,
    OBJECTIVE_SCALE,
    REPLAN_STABILITY_WEIGHT,
    build_problem,
    fixed_entries,
    machine_entries,
    policies_of,
)
from factoryshare.services.solving.published import (
    published_bookings,
    published_lot_bookings,
    published_pieces,
)
from factoryshare.services.solving.results import (
    WHY_NOT_PLACED,
    kpis,
    store_solution,
    why_not_placed,
)

__all__ = [
    "OBJECTIVE",
    "OBJECTIVE_SCALE",
    "REPLAN_STABILITY_WEIGHT",
    "REPRODUCIBLE_WALL_GUARD",
    "WHY_NOT_PLACED",
    "build_problem",
    "fixed_entries",
    "grid_start",
    "house_grid",
    "job_id",
    "kpis",
    "lot_minutes",
    "lot_quantities",
    "machine_entries",
    "machine_id_of",
    "machine_name",
    "minute",
    "operation_key",
    "operation_of",
    "policies_of",
    "published_bookings",
    "published_lot_bookings",
    "published_pieces",
    "request_id_of",
    "request_lots",
    "request_of_job",
    "solve_options",
    "split_in_lots",
    "store_solution",
    "why_not_placed",
]
