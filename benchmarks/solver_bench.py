"""Solver benchmark: Brandimarte MK01-MK10 (and any problem JSON files) against best-known values.

    python benchmarks/solver_bench.py --time-limit 10 --workers 2 --seeds 3 [FILES...]
    python benchmarks/solver_bench.py --house small,medium,large,xl [--real] --seeds 3

Prints a table and, with --json, the raw figures. With PyJobShop installed
(`pip install -e '.[bench]'`) the same instances run with it at the same limit, workers and
seed, side by side.

`--house` generates production-house problems (benchmarks/house_problems.py), one per size and
seed 1..N, solved by each solver with that seed: ours, PyJobShop and a plain CP-SAT model with
optional jobs (benchmarks/plain_cpsat.py), each in a fresh process so that its peak RSS
(resource.getrusage) is its own. `--real` gives the houses the fields for real houses: steps
that pause overnight, large orders in lots, the 15-minute grid and machine cost; what PyJobShop
cannot express of them is printed (PYJOBSHOP_LIMITS). Every schedule is judged by our
independent checker and objective (`solver.check`, `objective_value`), so the comparison is on
the same objective; a schedule the checker rejects counts as none; solvers are ranked by (jobs
left out, objective).

    python benchmarks/solver_bench.py --house small,medium,large,xl --real --seeds 3 --time-limit 10
    python benchmarks/solver_bench.py --house scale --real --seeds 1 --time-limit 60
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import queue as queue_module
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import solver
from benchmarks.house_problems import SIZES, generate
from solver.check import objective_terms, objective_value
from solver.greedy import greedy

FJSP = ROOT.parent / "shared" / "benchmarks" / "fjsp"


def best_known() -> dict[str, int]:
    table = FJSP / "bks.csv"
    if not table.exists():
        return {}
    with table.open() as f:
        rows = list(csv.DictReader(f))
    out = {}
    for row in rows:
        name = Path(row["instance"].lower()).name
        value = row["best_known_upper_bound"].strip()
        if value.isdigit():
            out.setdefault(name, int(value))
    return out


def load(path: Path) -> solver.Problem:
    if path.suffix == ".json":
        return solver.problem_from_dict(json.loads(path.read_text()))
    return solver.read_brandimarte(path)


def cpu_seconds() -> float:
    """CPU seconds this process used so far, all threads: beside the wall time it shows how
    much of the machine a solver got (2 workers for 10 s on a free machine: about 20)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_ours(problem: solver.Problem, limit: float, workers: int, seed: int) -> dict:
    t, cpu = time.perf_counter(), cpu_seconds()
    s = solver.solve(problem, solver.SolveOptions(time_limit=limit, workers=workers, seed=seed))
    used = cpu_seconds() - cpu
    violations = solver.check(problem, s)
    return {
        "objective": s.objective,
        "bound": s.bound,
        "status": s.status,
        "first": s.first_feasible_seconds,
        "seconds": time.perf_counter() - t,
        "cpu": used,
        "valid": not violations,
        "unscheduled": len(s.unscheduled),
    }


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _ceil(value: int, grid: int) -> int:
    return -(-value // grid) * grid


def _aligned(problem: solver.Problem) -> bool:
    """Whether every window, booking, release and frozen start lies on the grid: then PyJobShop,
    counting time in grid units, sees exactly our problem (see to_pyjobshop)."""
    g = problem.grid
    if g == 1:
        return True
    times = [t for m in problem.machines for w in problem.windows(m.id) for t in w]
    times += [t for f in problem.fixed for t in (f.start, f.end)]
    times += [j.release for j in problem.jobs]
    times += [o.frozen.start for j in problem.jobs for o in j.operations if o.frozen is not None]
    return all(t % g == 0 for t in times)


# What PyJobShop 0.0.9 cannot say of a factoryshare problem, printed with every run that has
# these fields (and in RESULTS.md). Its schedules are judged by our checker and objective anyway.
PYJOBSHOP_LIMITS = {
    "cost": "machine cost: PyJobShop 0.0.9 has no cost objective, so it plans without machine cost "
    "(its plan's cost is still counted in our objective)",
    "optional": "jobs left out: PyJobShop has optional tasks but no objective term for leaving one out, "
    "so every job is required and a house where one job cannot be placed gets no schedule",
    "grid": "the grid: expressed by counting time in grid units (exact where every window, booking and "
    "release is on the grid, as in the generated houses; lags between steps on machines of "
    "different speeds rounded up); its tardiness and makespan are then in grid units",
    "makespan": "with pausable steps, bookings on those machines are pinned tasks (a break would let a "
    "pausable task run through them), so its makespan counts bookings too",
}


def pyjobshop_limits(problem: solver.Problem) -> list[str]:
    out = []
    if problem.objective.cost and any(m.cost_per_hour for m in problem.machines):
        out.append(PYJOBSHOP_LIMITS["cost"])
    out.append(PYJOBSHOP_LIMITS["optional"])
    if problem.grid > 1:
        out.append(
            PYJOBSHOP_LIMITS["grid"]
            + ("" if _aligned(problem) else " -- NOT aligned here: its windows shrink to the grid")
        )
    if any(o.pausable for j in problem.jobs for o in j.operations):
        out.append(PYJOBSHOP_LIMITS["makespan"])
    return out


def pyjobshop_breaks(
    problem: solver.Problem, machine: solver.Machine, with_fixed: bool = True
) -> list[tuple[int, int]]:
    """Everything outside the machine's open windows (and, `with_fixed`, its fixed bookings) as
    PyJobShop machine breaks, in grid units (closed time widened to the grid): a task that may
    not be interrupted (allow_breaks=False) never overlaps one, which is our rule that an
    operation runs inside one open window and beside fixed time; a pausable one
    (allow_breaks=True) stops for them and goes on after, our rule that it waits through closed
    time."""
    g = problem.grid
    closed = (
        [(f.start, f.end) for f in problem.fixed if f.machine == machine.id] if with_fixed else []
    )
    if machine.open is not None:
        t = 0
        for start, end in problem.windows(machine.id):
            if start > t:
                closed.append((t, start))
            t = max(t, end)
        if t < problem.horizon:
            closed.append((t, problem.horizon))
    return _merge([(s // g, _ceil(e, g) // g) for s, e in closed])


def to_pyjobshop(problem: solver.Problem):
    """The problem as a PyJobShop 0.0.9 model, and for each of our operations its task's index.

    Alternative machines are modes; order with minimum lags is end-before-start with a delay;
    release dates, due dates, deadlines and weights are the job's; closures and fixed bookings
    are machine breaks; the horizon is each task's latest end; the objective is weighted total
    tardiness (PyJobShop weighs each job's tardiness by the job's weight) plus makespan, with
    our weights. The fields for real houses:
    - pausable: the task may be interrupted by breaks (allow_breaks=True); on a machine where a
      pausable step may run, bookings are pinned tasks instead of breaks, since it must not run
      through them;
    - the grid: time counted in grid units (a task's length its duration rounded up to the
      grid, which is exactly how long we hold the machine); a lag after a step becomes the delay
      in units that keeps the real end plus the lag before the next start, the largest over
      the step's machines;
    - frozen: the task keeps its machine and start (earliest = latest start);
    - machine cost and optional jobs: not expressible (PYJOBSHOP_LIMITS)."""
    import pyjobshop
    from pyjobshop.constants import MAX_VALUE

    g = problem.grid
    pausable_on = {
        m.machine for j in problem.jobs for o in j.operations if o.pausable for m in o.modes
    }
    data = pyjobshop.Model()
    machines = {
        m.id: data.add_machine(
            breaks=pyjobshop_breaks(problem, m, with_fixed=m.id not in pausable_on), name=m.id
        )
        for m in problem.machines
    }
    for f in problem.fixed:
        if f.machine in pausable_on:
            start = f.start // g
            task = data.add_task(earliest_start=start, latest_start=start, name=f.id)
            data.add_mode(task, machines[f.machine], _ceil(f.end, g) // g - start)
    tasks = []
    horizon = problem.horizon // g
    for job in problem.jobs:
        release = _ceil(job.release, g) // g
        pj = data.add_job(
            weight=job.weight,
            release_date=release,
            deadline=MAX_VALUE if job.deadline is None else job.deadline // g,
            due_date=None if job.due is None else job.due // g,
            name=job.id,
        )
        previous = None
        for op in job.operations:
            earliest, latest = release, MAX_VALUE
            modes = op.modes
            if op.frozen is not None:
                earliest = latest = op.frozen.start // g
                modes = tuple(m for m in op.modes if m.machine == op.frozen.machine)
            task = data.add_task(
                job=pj,
                earliest_start=earliest,
                latest_start=latest,
                latest_end=horizon,
                allow_breaks=op.pausable,
                name=op.id,
            )
            for mode in modes:
                data.add_mode(task, machines[mode.machine], _ceil(mode.duration, g) // g)
            if previous is not None:
                # The previous step really ends r = (its length rounded up) - duration minutes
                # before its task does; the next start must be lag minutes after the real end.
                delay = max(
                    -(-(op.min_lag - (_ceil(m.duration, g) - m.duration)) // g)
                    for m in previous[0].modes
                )
                data.add_end_before_start(previous[1], task, delay=max(0, delay))
            previous = (op, task)
            tasks.append((op, len(data.tasks) - 1))
    data.set_objective(
        weight_makespan=problem.objective.makespan,
        weight_total_tardiness=problem.objective.weighted_tardiness,
    )
    return data, tasks


def run_pyjobshop(problem: solver.Problem, limit: float, workers: int, seed: int) -> dict | None:
    """PyJobShop on its own OR-Tools model of the problem, at the same limit, workers and seed.

    Its model is solved through its OR-Tools wrapper (`pyjobshop.solvers.ortools.CPModel`)
    with a solution callback, the only way to see when its first schedule came; its schedule
    is then read back with the wrapper's own conversion (starts from grid units back to
    minutes, a pausable step's end where it has used its open minutes) and judged by our
    checker and objective."""
    try:
        import pyjobshop  # noqa: F401
        from ortools.sat.python import cp_model
        from pyjobshop.solvers.ortools import CPModel
    except ImportError:
        return None
    from solver.calendar import Calendar

    t, cpu = time.perf_counter(), cpu_seconds()
    data, tasks = to_pyjobshop(problem)
    pjs_data = data.data()
    wrapper = CPModel(pjs_data)
    build = time.perf_counter() - t
    first: dict[str, float] = {}

    class _First(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            first.setdefault("t", time.perf_counter() - t)

    cp = cp_model.CpSolver()
    cp.parameters.max_time_in_seconds = limit
    cp.parameters.num_workers = workers
    cp.parameters.random_seed = seed
    status = cp.solve(wrapper.model, _First())
    seconds = time.perf_counter() - t
    out = {
        "objective": None,
        "own_objective": None,
        "bound": None,
        "status": cp.status_name(status),
        "first": first.get("t"),
        "seconds": seconds,
        "cpu": cpu_seconds() - cpu,
        "build": build,
        "valid": None,
        "unscheduled": None,
        "limits": pyjobshop_limits(problem) if _has_real_fields(problem) else [],
    }
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return out
    out["own_objective"] = int(cp.objective_value)
    out["bound"] = int(cp.best_objective_bound)
    # Its schedule in our terms, judged by our checker and our objective.
    best = wrapper._convert_to_solution(cp)
    names = [r.name for r in pjs_data.resources]
    g = problem.grid
    calendars: dict[str, Calendar] = {}
    assignments = []
    for op, index in tasks:
        scheduled = best.tasks[index]
        machine = names[scheduled.resources[0]]
        duration = next(m.duration for m in op.modes if m.machine == machine)
        start = scheduled.start * g
        if op.pausable:
            calendar = calendars.setdefault(machine, Calendar(problem.windows(machine)))
            end = calendar.pausable_end(start, duration)
            end = scheduled.end * g if end is None else end
        else:
            end = start + duration
        assignments.append(solver.Assignment(op.id, machine, start, end))
    ours = objective_value(problem, objective_terms(problem, {a.operation: a for a in assignments}))
    mine = solver.Solution(
        status="feasible",
        objective=ours,
        bound=None,
        seconds=seconds,
        assignments=tuple(assignments),
    )
    violations = solver.check(problem, mine)
    out["valid"] = not violations
    out["violations"] = violations[:5]
    out["objective"] = ours if not violations else None
    out["unscheduled"] = 0 if not violations else None
    out["schedule"] = [[a.operation, a.machine, a.start, a.end] for a in assignments]
    return out


def _has_real_fields(problem: solver.Problem) -> bool:
    return (
        problem.grid > 1
        or bool(problem.objective.cost)
        or any(o.pausable or o.frozen is not None for j in problem.jobs for o in j.operations)
    )


SOLVERS = ("ours", "pyjobshop", "plain")


def _solve_one(which: str, size: str, seed: int, real: bool, limit: float, workers: int) -> dict:
    """One solver on one generated house, in a process of its own (see _in_child): what it
    found, judged by our checker and objective, and the process's peak RSS."""
    problem = generate(size, seed, real=real, lots=real)
    if which == "ours":
        t = time.perf_counter()
        greedy_assignments, greedy_unscheduled = greedy(problem)
        greedy_seconds = time.perf_counter() - t
        greedy_value = objective_value(
            problem, objective_terms(problem, {a.operation: a for a in greedy_assignments})
        )
        out = run_ours(problem, limit, workers, seed)
        out.update(
            greedy_seconds=greedy_seconds,
            greedy_objective=greedy_value,
            greedy_unscheduled=len(greedy_unscheduled),
        )
    elif which == "pyjobshop":
        out = run_pyjobshop(problem, limit, workers, seed) or {"status": "not installed"}
        out.pop("schedule", None)
    else:
        from benchmarks.plain_cpsat import solve_plain

        cpu = cpu_seconds()
        s = solve_plain(problem, limit, workers, seed)
        used = cpu_seconds() - cpu
        violations = solver.check(problem, s) if s.objective is not None else []
        out = {
            "objective": s.objective if not violations else None,
            "bound": s.bound,
            "status": s.status,
            "first": s.first_feasible_seconds,
            "seconds": s.seconds,
            "valid": not violations if s.objective is not None else None,
            "violations": violations[:5],
            "build": s.terms.get("build_seconds"),
            "cpu": used,
            "unscheduled": len(s.unscheduled) if s.objective is not None else None,
        }
    # Peak resident memory of this process (Linux: KiB), model building and search included.
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["instance"] = problem.name
    out["machines"] = len(problem.machines)
    out["jobs"] = len(problem.jobs)
    out["operations"] = sum(len(j.operations) for j in problem.jobs)
    out["lot_jobs"] = sum("-lot-" in j.id for j in problem.jobs)
    out["pausable"] = sum(o.pausable for j in problem.jobs for o in j.operations)
    return out


def _child(queue, *args) -> None:
    try:
        queue.put(_solve_one(*args))
    except Exception as exc:
        queue.put({"status": f"error: {type(exc).__name__}: {exc}"})


def _in_child(*args, limit: float) -> dict:
    """_solve_one in a fresh (spawned, not forked) Python process, so that its peak RSS is its
    own and one solver's memory never counts for another's."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_child, args=(queue, *args))
    process.start()
    try:
        result = queue.get(timeout=3 * limit + 300)
    except queue_module.Empty:
        result = {"status": "no answer"}
    process.join(30)
    if process.is_alive():
        process.kill()
    return result


def _rank(row: dict | None) -> tuple[float, float]:
    """(jobs left out, objective): the issue's order; no schedule ranks last."""
    if not row or row.get("objective") is None or not row.get("valid"):
        return (float("inf"), float("inf"))
    return (row.get("unscheduled") or 0, row["objective"])


def _fmt(value, spec: str = "") -> str:
    if value is None:
        return "-"
    return format(value, spec) if spec else str(value)


def run_house(
    sizes: list[str], seeds: int, limit: float, workers: int, solvers: list[str], real: bool
) -> list[dict]:
    """Each size's generated problems for seeds 1..N, each solver with that seed in a process of
    its own; objectives by our checker; then a summary per size (means over the seeds)."""
    rows = []
    notes_shown = False
    print(
        f"{'instance':<28}{'mach':>5}{'jobs':>5}{'ops':>6}  "
        + "  ".join(f"{name + ' (out/obj/first s/MiB)':<44}" for name in solvers)
        + "  best",
        flush=True,
    )
    for size in sizes:
        for seed in range(1, seeds + 1):
            results = {
                name: _in_child(name, size, seed, real, limit, workers, limit=limit)
                for name in solvers
            }
            some = next((r for r in results.values() if "instance" in r), {})
            if real and not notes_shown and results.get("pyjobshop", {}).get("limits"):
                print(
                    "PyJobShop cannot say: " + "; ".join(results["pyjobshop"]["limits"]), flush=True
                )
                notes_shown = True
            ranked = sorted((_rank(r), name) for name, r in results.items())
            best = [
                name for rank, name in ranked if rank == ranked[0][0] and rank[0] != float("inf")
            ]
            row = {
                "instance": some.get("instance", f"{size}-{seed}"),
                "size": size,
                "seed": seed,
                "machines": some.get("machines"),
                "jobs": some.get("jobs"),
                "operations": some.get("operations"),
                "lot_jobs": some.get("lot_jobs"),
                "pausable": some.get("pausable"),
                "best": best,
                **results,
            }
            rows.append(row)
            cells = []
            for name in solvers:
                r = results[name]
                value = (
                    r.get("objective")
                    if r.get("valid")
                    else ("INVALID" if r.get("valid") is False else "none")
                )
                cells.append(
                    f"{_fmt(r.get('unscheduled'))}/{value}/{_fmt(r.get('first'), '.2f')}"
                    f"/{_fmt(r.get('peak_rss_mib'), '.0f')} {r.get('status', '-').lower()}"
                )
            print(
                f"{row['instance']:<28}{_fmt(row['machines']):>5}{_fmt(row['jobs']):>5}"
                f"{_fmt(row['operations']):>6}  "
                + "  ".join(f"{c:<44}" for c in cells)
                + "  "
                + ",".join(best),
                flush=True,
            )
    print()
    print(
        "per size, means over the seeds (objective by our checker, over the seeds with a valid schedule)"
    )
    for size in sizes:
        mine = [r for r in rows if r["size"] == size]
        parts = []
        for name in solvers:
            found = [
                r[name]
                for r in mine
                if r[name].get("valid") and r[name].get("objective") is not None
            ]
            firsts = [r[name]["first"] for r in mine if r[name].get("first") is not None]
            rss = [r[name]["peak_rss_mib"] for r in mine if r[name].get("peak_rss_mib")]
            parts.append(
                f"{name}: {len(found)}/{len(mine)} schedules"
                + (f", mean {statistics.mean(f['objective'] for f in found):.0f}" if found else "")
                + (f", first after at most {max(firsts):.2f} s" if firsts else "")
                + (f", peak RSS at most {max(rss):.0f} MiB" if rss else "")
            )
        wins = {name: sum(name in r["best"] for r in mine) for name in solvers}
        print(f"{size}: " + "; ".join(parts) + f"; best by (left out, objective): {wins}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--house", help=f"generated production-house sizes, comma-separated ({', '.join(SIZES)})"
    )
    parser.add_argument(
        "--real",
        action="store_true",
        help="with --house: the real-house fields (pausable steps, lots, the grid, machine cost)",
    )
    parser.add_argument(
        "--solvers",
        default=",".join(SOLVERS),
        help=f"with --house: which, comma-separated ({', '.join(SOLVERS)})",
    )
    parser.add_argument("--no-pyjobshop", action="store_true", help="without PyJobShop")
    args = parser.parse_args()
    if args.house:
        sizes = args.house.split(",")
        for size in sizes:
            if size not in SIZES:
                parser.error(f"unknown size {size!r}; choose from {', '.join(SIZES)}")
        solvers = [
            name
            for name in args.solvers.split(",")
            if not (args.no_pyjobshop and name == "pyjobshop")
        ]
        for name in solvers:
            if name not in SOLVERS:
                parser.error(f"unknown solver {name!r}; choose from {', '.join(SOLVERS)}")
        rows = run_house(sizes, args.seeds, args.time_limit, args.workers, solvers, args.real)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2))
        return
    # By default the ten instances the published tables (and issue 4's goal) are about.
    files = args.files or [FJSP / "brandimarte" / f"mk{i:02d}.fjs" for i in range(1, 11)]
    bks = best_known()
    rows = []
    print(
        f"{'instance':<10}{'best':>6}{'ours':>7}{'bound':>7}{'status':>10}{'gap %':>7}{'first s':>8}"
        f"{'total s':>8}{'cpu s':>7}{'pjs':>7}{'bound':>7}{'status':>10}{'first s':>8}{'total s':>8}{'cpu s':>7}"
        f"{'ratio':>7}"
    )
    for path in files:
        problem = load(path)
        for seed in range(args.seeds):
            ours = run_ours(problem, args.time_limit, args.workers, seed)
            peer = (
                None
                if args.no_pyjobshop
                else run_pyjobshop(problem, args.time_limit, args.workers, seed)
            )
            best = bks.get(path.stem)
            gap = (
                100 * (ours["objective"] - best) / best
                if best and ours["objective"] is not None
                else None
            )
            ratio = ours["objective"] / peer["objective"] if peer and peer["objective"] else None
            rows.append(
                {
                    "instance": path.stem,
                    "seed": seed,
                    "best_known": best,
                    "ours": ours,
                    "pyjobshop": peer,
                    "gap_percent": gap,
                    "ratio": ratio,
                }
            )
            p = peer or {}
            peer_first = f"{p['first']:.2f}" if p.get("first") is not None else "-"
            peer_total = f"{p['seconds']:.1f}" if p.get("seconds") is not None else "-"
            print(
                f"{path.stem:<10}{best or '-':>6}{ours['objective']:>7}{ours['bound'] or '-':>7}"
                f"{ours['status']:>10}{(f'{gap:.2f}' if gap is not None else '-'):>7}{ours['first']:>8.3f}"
                f"{ours['seconds']:>8.1f}{ours['cpu']:>7.1f}{p.get('objective') or '-':>7}{p.get('bound') or '-':>7}"
                f"{p.get('status', '-').lower():>10}{peer_first:>8}{peer_total:>8}{_fmt(p.get('cpu'), '.1f'):>7}"
                f"{(f'{ratio:.3f}' if ratio else '-'):>7}",
                flush=True,
            )
    gaps = [r["gap_percent"] for r in rows if r["gap_percent"] is not None]
    if gaps:
        print(f"mean gap to best known: {statistics.mean(gaps):.2f} % over {len(gaps)} runs")
    peer_gaps = [
        100 * (r["pyjobshop"]["objective"] - r["best_known"]) / r["best_known"]
        for r in rows
        if r["best_known"] and r["pyjobshop"] and r["pyjobshop"]["objective"]
    ]
    if peer_gaps:
        print(
            f"PyJobShop's mean gap to best known: {statistics.mean(peer_gaps):.2f} % over "
            f"{len(peer_gaps)} runs"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
