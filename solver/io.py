"""Exact JSON reading and writing of factoryshare-problem/1 and factoryshare-solution/1.

Reading validates every field and raises ProblemFormatError naming its path
(e.g. `jobs[3].operations[0].modes[1].duration`), never a KeyError or TypeError.

Fields for real houses (all optional; a file without them means what it meant before, and a
problem that does not use them is written without them):

- `grid` (top level, minutes, at least 1): every operation starts on a multiple of `grid` (the
  horizon starts at midnight house time) and holds its machine until its end rounded up to the
  grid; nothing else (operation or `fixed` time) lies on that machine before then.
- `operations[].pausable: true`: the operation may pause while its machine is closed. It starts
  inside an open window, uses exactly `duration` open minutes of one machine, may span closed
  time, ends inside a window and holds the machine from start to end (`end - start >= duration`
  in the solution).
- `machines[].cost_per_hour` (integer rupiah) and `objective.cost` (the weight of one rupiah):
  an operation costs its mode's `duration` x the chosen machine's rate / 60, rounded to the
  nearest rupiah (halves up) per operation; the cost term is the sum over operations. The
  solution file reports the plan's machine cost apart from the objective as `cost` (rupiah;
  absent in older files).
- `operations[].frozen: {"machine": M, "start": T}`: published work in the frozen near future.
  In any plan the operation runs on machine M (one of its modes) from T, its end following from
  the duration and the calendar as for any other operation. It is never moved: if its job
  cannot be placed around it (T is closed or off the grid now, a predecessor cannot end before
  it, it clashes with fixed time or another frozen operation, or the deadline cannot be met),
  the whole job is left out with the reason, like any job that cannot be placed.
"""

from __future__ import annotations

from typing import Any

from solver.problem import (
    STATUSES,
    Assignment,
    FixedInterval,
    Frozen,
    Job,
    Machine,
    Mode,
    Objective,
    Operation,
    Problem,
    Solution,
    Unscheduled,
)

PROBLEM_FORMAT = "factoryshare-problem/1"
SOLUTION_FORMAT = "factoryshare-solution/1"


class ProblemFormatError(ValueError):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def _obj(value: Any, path: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProblemFormatError(path or "(top)", "must be an object")
    unknown = set(value) - required - optional
    if unknown:
        first = min(unknown)
        raise ProblemFormatError(f"{path}.{first}" if path else first, "unknown field")
    for key in sorted(required - set(value)):
        raise ProblemFormatError(f"{path}.{key}" if path else key, "is required")
    return value


def _int(value: Any, path: str, *, minimum: int = 0, nullable: bool = False) -> int | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProblemFormatError(path, "must be an integer")
    if value < minimum:
        raise ProblemFormatError(path, f"must be at least {minimum}")
    return value


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise ProblemFormatError(path, "must be a non-empty string")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ProblemFormatError(path, "must be a list")
    return value


def problem_from_dict(data: Any) -> Problem:
    d = _obj(
        data, "", {"format", "horizon", "machines", "jobs"}, {"name", "fixed", "objective", "grid"}
    )
    if d["format"] != PROBLEM_FORMAT:
        raise ProblemFormatError("format", f"must be {PROBLEM_FORMAT!r}")
    horizon = _int(d["horizon"], "horizon", minimum=1)
    assert horizon is not None
    grid = _int(d.get("grid", 1), "grid", minimum=1)
    assert grid is not None
    machines: list[Machine] = []
    seen: set[str] = set()
    for i, m in enumerate(_list(d["machines"], "machines")):
        p = f"machines[{i}]"
        m = _obj(m, p, {"id"}, {"open", "cost_per_hour"})
        mid = _str(m["id"], f"{p}.id")
        if mid in seen:
            raise ProblemFormatError(f"{p}.id", f"duplicate machine id {mid!r}")
        seen.add(mid)
        windows: tuple[tuple[int, int], ...] | None = None
        if m.get("open") is not None:
            opened: list[tuple[int, int]] = []
            last_end = -1
            for k, w in enumerate(_list(m["open"], f"{p}.open")):
                wp = f"{p}.open[{k}]"
                if not isinstance(w, list) or len(w) != 2:
                    raise ProblemFormatError(wp, "must be [start, end]")
                s, e = _int(w[0], wp), _int(w[1], wp)
                assert s is not None and e is not None
                if e <= s:
                    raise ProblemFormatError(wp, "end must be after start")
                if s < last_end:
                    raise ProblemFormatError(wp, "windows must be sorted and must not overlap")
                last_end = e
                opened.append((s, e))
            windows = tuple(opened)
        rate = _int(m.get("cost_per_hour", 0), f"{p}.cost_per_hour")
        machines.append(Machine(mid, windows, rate or 0))
    fixed: list[FixedInterval] = []
    for i, f in enumerate(_list(d.get("fixed", []), "fixed")):
        p = f"fixed[{i}]"
        f = _obj(f, p, {"id", "machine", "start", "end"}, set())
        machine = _str(f["machine"], f"{p}.machine")
        if machine not in seen:
            raise ProblemFormatError(f"{p}.machine", f"unknown machine {machine!r}")
        s, e = _int(f["start"], f"{p}.start"), _int(f["end"], f"{p}.end")
        assert s is not None and e is not None
        if e <= s:
            raise ProblemFormatError(f"{p}.end", "must be after start")
        fixed.append(FixedInterval(_str(f["id"], f"{p}.id"), machine, s, e))
    jobs: list[Job] = []
    op_ids: set[str] = set()
    job_ids: set[str] = set()
    for i, j in enumerate(_list(d["jobs"], "jobs")):
        p = f"jobs[{i}]"
        j = _obj(j, p, {"id", "operations"}, {"owner", "release", "due", "deadline", "weight"})
        jid = _str(j["id"], f"{p}.id")
        if jid in job_ids:
            raise ProblemFormatError(f"{p}.id", f"duplicate job id {jid!r}")
        job_ids.add(jid)
        ops: list[Operation] = []
        raw_ops = _list(j["operations"], f"{p}.operations")
        if not raw_ops:
            raise ProblemFormatError(f"{p}.operations", "a job needs at least one operation")
        for k, o in enumerate(raw_ops):
            op = f"{p}.operations[{k}]"
            o = _obj(o, op, {"id", "modes"}, {"min_lag", "pausable", "frozen"})
            oid = _str(o["id"], f"{op}.id")
            if oid in op_ids:
                raise ProblemFormatError(f"{op}.id", f"duplicate operation id {oid!r}")
            op_ids.add(oid)
            modes: list[Mode] = []
            raw_modes = _list(o["modes"], f"{op}.modes")
            if not raw_modes:
                raise ProblemFormatError(f"{op}.modes", "an operation needs at least one mode")
            for n, mo in enumerate(raw_modes):
                mp = f"{op}.modes[{n}]"
                mo = _obj(mo, mp, {"machine", "duration"}, set())
                machine = _str(mo["machine"], f"{mp}.machine")
                if machine not in seen:
                    raise ProblemFormatError(f"{mp}.machine", f"unknown machine {machine!r}")
                duration = _int(mo["duration"], f"{mp}.duration", minimum=1)
                assert duration is not None
                modes.append(Mode(machine, duration))
            pausable = o.get("pausable", False)
            if not isinstance(pausable, bool):
                raise ProblemFormatError(f"{op}.pausable", "must be true or false")
            frozen = None
            if o.get("frozen") is not None:
                fr = _obj(o["frozen"], f"{op}.frozen", {"machine", "start"}, set())
                machine = _str(fr["machine"], f"{op}.frozen.machine")
                if machine not in {mo.machine for mo in modes}:
                    raise ProblemFormatError(
                        f"{op}.frozen.machine", f"{machine!r} is not one of the operation's modes"
                    )
                frozen_start = _int(fr["start"], f"{op}.frozen.start")
                assert frozen_start is not None
                frozen = Frozen(machine, frozen_start)
            ops.append(
                Operation(
                    oid,
                    tuple(modes),
                    _int(o.get("min_lag", 0), f"{op}.min_lag") or 0,
                    pausable=pausable,
                    frozen=frozen,
                )
            )
        owner = j.get("owner")
        if owner is not None:
            owner = _str(owner, f"{p}.owner")
        jobs.append(
            Job(
                id=jid,
                operations=tuple(ops),
                owner=owner,
                release=_int(j.get("release", 0), f"{p}.release") or 0,
                due=_int(j.get("due"), f"{p}.due", nullable=True),
                deadline=_int(j.get("deadline"), f"{p}.deadline", nullable=True),
                weight=_int(j.get("weight", 1), f"{p}.weight") or 0,
            )
        )
    obj = _obj(
        d.get("objective", {}), "objective", set(), {"weighted_tardiness", "makespan", "cost"}
    )
    objective = Objective(
        weighted_tardiness=_int(obj.get("weighted_tardiness", 0), "objective.weighted_tardiness")
        or 0,
        makespan=_int(obj.get("makespan", 0), "objective.makespan") or 0,
        cost=_int(obj.get("cost", 0), "objective.cost") or 0,
    )
    name = d.get("name", "")
    if not isinstance(name, str):
        raise ProblemFormatError("name", "must be a string")
    return Problem(
        name=name,
        horizon=horizon,
        machines=tuple(machines),
        jobs=tuple(jobs),
        fixed=tuple(fixed),
        objective=objective,
        grid=grid,
    )


def problem_to_dict(problem: Problem) -> dict[str, Any]:
    # The fields for real houses are written only when used, so older files read back unchanged.
    return {
        "format": PROBLEM_FORMAT,
        "name": problem.name,
        "horizon": problem.horizon,
        **({"grid": problem.grid} if problem.grid != 1 else {}),
        "machines": [
            {
                "id": m.id,
                **({"open": [list(w) for w in m.open]} if m.open is not None else {}),
                **({"cost_per_hour": m.cost_per_hour} if m.cost_per_hour else {}),
            }
            for m in problem.machines
        ],
        "fixed": [
            {"id": f.id, "machine": f.machine, "start": f.start, "end": f.end}
            for f in problem.fixed
        ],
        "jobs": [
            {
                "id": j.id,
                **({"owner": j.owner} if j.owner is not None else {}),
                "release": j.release,
                "due": j.due,
                "deadline": j.deadline,
                "weight": j.weight,
                "operations": [
                    {
                        "id": o.id,
                        **({"min_lag": o.min_lag} if o.min_lag else {}),
                        **({"pausable": True} if o.pausable else {}),
                        **(
                            {"frozen": {"machine": o.frozen.machine, "start": o.frozen.start}}
                            if o.frozen
                            else {}
                        ),
                        "modes": [{"machine": m.machine, "duration": m.duration} for m in o.modes],
                    }
                    for o in j.operations
                ],
            }
            for j in problem.jobs
        ],
        "objective": {
            "weighted_tardiness": problem.objective.weighted_tardiness,
            "makespan": problem.objective.makespan,
            **({"cost": problem.objective.cost} if problem.objective.cost else {}),
        },
    }


def solution_to_dict(solution: Solution) -> dict[str, Any]:
    return {
        "format": SOLUTION_FORMAT,
        "status": solution.status,
        "objective": solution.objective,
        "bound": solution.bound,
        **({"cost": solution.cost} if solution.cost is not None else {}),
        "seconds": round(solution.seconds, 3),
        "assignments": [
            {"operation": a.operation, "machine": a.machine, "start": a.start, "end": a.end}
            for a in solution.assignments
        ],
        "unscheduled": [{"job": u.job, "reason": u.reason} for u in solution.unscheduled],
    }


def solution_from_dict(data: Any) -> Solution:
    d = _obj(
        data,
        "",
        {"format", "status", "assignments"},
        {"objective", "bound", "cost", "seconds", "unscheduled"},
    )
    if d["format"] != SOLUTION_FORMAT:
        raise ProblemFormatError("format", f"must be {SOLUTION_FORMAT!r}")
    if d["status"] not in STATUSES:
        raise ProblemFormatError("status", f"must be one of {', '.join(STATUSES)}")
    assignments = []
    for i, a in enumerate(_list(d["assignments"], "assignments")):
        p = f"assignments[{i}]"
        a = _obj(a, p, {"operation", "machine", "start", "end"}, set())
        assignments.append(
            Assignment(
                _str(a["operation"], f"{p}.operation"),
                _str(a["machine"], f"{p}.machine"),
                _int(a["start"], f"{p}.start") or 0,
                _int(a["end"], f"{p}.end") or 0,
            )
        )
    unscheduled = []
    for i, u in enumerate(_list(d.get("unscheduled", []), "unscheduled")):
        p = f"unscheduled[{i}]"
        u = _obj(u, p, {"job", "reason"}, set())
        unscheduled.append(
            Unscheduled(_str(u["job"], f"{p}.job"), _str(u["reason"], f"{p}.reason"))
        )
    seconds = d.get("seconds", 0.0)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        raise ProblemFormatError("seconds", "must be a non-negative number")
    return Solution(
        status=d["status"],
        objective=_int(d.get("objective"), "objective", minimum=-(10**18), nullable=True),
        bound=_int(d.get("bound"), "bound", minimum=-(10**18), nullable=True),
        seconds=float(seconds),
        assignments=tuple(assignments),
        unscheduled=tuple(unscheduled),
        cost=_int(d.get("cost"), "cost", nullable=True),
    )
