"""The problem's own rules, held by the dataclasses whoever builds them (a file, the service,
code): a bad value is refused when the object is made, naming what is wrong."""

from __future__ import annotations

import json

import pytest

import solver
from solver import (
    FixedInterval,
    Frozen,
    Job,
    Machine,
    Mode,
    Operation,
    Problem,
    Solution,
    SolveOptions,
    Status,
    Unscheduled,
    UnscheduledKind,
)


def _job(job_id: str = "j", machine: str = "m", duration: int = 30) -> Job:
    return Job(job_id, (Operation(f"{job_id}/1", (Mode(machine, duration),)),))


@pytest.mark.parametrize(
    ("build", "phrase"),
    [
        (lambda: Mode("m", 0), "duration"),
        (lambda: Machine("m", ((480, 960), (900, 1000))), "must not overlap"),
        (lambda: Machine("m", ((600, 600),)), "start < end"),
        (lambda: Machine("m", cost_per_hour=-1), "cost_per_hour"),
        (lambda: FixedInterval("b", "m", 100, 50), "start < end"),
        (lambda: Operation("o", ()), "at least one mode"),
        (
            lambda: Operation("o", (Mode("m", 5),), frozen=Frozen("other", 0)),
            "not one of its modes",
        ),
        (lambda: Job("j", ()), "at least one operation"),
        (lambda: Job("j", _job().operations, weight=-1), "weight"),
        (lambda: Problem("p", 0, (Machine("m"),), (_job(),)), "horizon"),
        (lambda: Problem("p", 100, (Machine("m"),), (_job(),), grid=0), "grid"),
        (lambda: Problem("p", 100, (Machine("m"), Machine("m")), (_job(),)), "machine ids"),
        (lambda: Problem("p", 100, (Machine("m"),), (_job("a"), _job("a"))), "job ids"),
        (lambda: Problem("p", 100, (Machine("m"),), (_job(machine="x"),)), "unknown machine x"),
        (
            lambda: Problem(
                "p", 100, (Machine("m"),), (_job(),), fixed=(FixedInterval("b", "x", 0, 5),)
            ),
            "unknown machine x",
        ),
        (lambda: SolveOptions(workers=0), "workers"),
        (lambda: SolveOptions(deterministic_time=0), "deterministic_time"),
        (lambda: Solution("fine", 1, None, 0.0, ()), "status"),
        (lambda: Unscheduled("j", "why", "because"), "kind"),
    ],
)
def test_a_problem_built_in_code_with_a_bad_value_is_refused_when_made(build, phrase):
    with pytest.raises(ValueError, match=phrase):
        build()


def test_status_and_left_out_kind_are_closed_sets_that_still_read_and_write_as_their_words():
    solution = solver.solve(
        Problem("p", 100, (Machine("m"),), (_job(),)),
        SolveOptions(time_limit=60, workers=1, deterministic_time=1.0),
    )
    assert solution.status is Status.optimal and solution.status == "optimal"
    left_out = Unscheduled("j", "too long", "no_window")
    assert left_out.kind is UnscheduledKind.no_window and left_out.kind == "no_window"
    as_json = json.loads(json.dumps(solver.solution_to_dict(solution)))
    assert as_json["status"] == "optimal"
    assert solver.solution_from_dict(as_json).status is Status.optimal
