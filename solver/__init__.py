"""factoryshare's solver: pure optimisation of shared machine time (no Flask, no database).

Dataclasses in (`Problem`), dataclasses out (`Solution`); `problem_from_dict` and
`solution_to_dict` speak the factoryshare-problem/1 and factoryshare-solution/1 JSON formats;
`check` verifies any solution independently.
"""

from solver.brandimarte import read_brandimarte
from solver.check import check
from solver.io import (
    ProblemFormatError,
    problem_from_dict,
    problem_to_dict,
    solution_from_dict,
    solution_to_dict,
)
from solver.model import solve
from solver.problem import (
    UNSCHEDULED_KINDS,
    Assignment,
    FamilySetup,
    FixedInterval,
    Frozen,
    Job,
    Machine,
    Mode,
    Objective,
    Operation,
    Policies,
    Problem,
    ShareCap,
    Solution,
    SolveOptions,
    Stability,
    Status,
    Unscheduled,
    UnscheduledKind,
    operation_cost,
)

__all__ = [
    "UNSCHEDULED_KINDS",
    "Assignment",
    "FamilySetup",
    "FixedInterval",
    "Frozen",
    "Job",
    "Machine",
    "Mode",
    "Objective",
    "Operation",
    "Policies",
    "Problem",
    "ProblemFormatError",
    "ShareCap",
    "Solution",
    "SolveOptions",
    "Stability",
    "Status",
    "Unscheduled",
    "UnscheduledKind",
    "check",
    "operation_cost",
    "problem_from_dict",
    "problem_to_dict",
    "read_brandimarte",
    "solution_from_dict",
    "solution_to_dict",
    "solve",
]
