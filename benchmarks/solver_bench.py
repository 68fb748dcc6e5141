"""Solver benchmark: Brandimarte MK01-MK10 (and any problem JSON files) against best-known values.

    python benchmarks/solver_bench.py --time-limit 10 --workers 2 --seeds 3 [FILES...]
    python benchmarks/solver_bench.py --house small,medium,large,xl --seeds 3

Prints a table and, with --json, the raw figures. With PyJobShop installed
(`pip install -e '.[bench]'`) the same instances run with it at the same limit, workers and
seed, side by side.

`--house` generates production-house problems (benchmarks/house_problems.py), one per size and
seed 1..N, solved by each solver with that seed. Both solvers' schedules are judged by our
independent checker and objective (`solver.check`, `objective_value`), so the comparison is on
the same weighted objective; a schedule the checker rejects counts as none.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import solver  # noqa: E402
from benchmarks.house_problems import SIZES, generate  # noqa: E402
from solver.check import objective_terms, objective_value  # noqa: E402
from solver.greedy import greedy  # noqa: E402

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


def run_ours(problem: solver.Problem, limit: float, workers: int, seed: int) -> dict:
    t = time.perf_counter()
    s = solver.solve(problem, solver.SolveOptions(time_limit=limit, workers=workers, seed=seed))
    violations = solver.check(problem, s)
    return {"objective": s.objective, "bound": s.bound, "status": s.status,
            "first": s.first_feasible_seconds, "seconds": time.perf_counter() - t,
            "valid": not violations, "unscheduled": len(s.unscheduled)}


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def pyjobshop_breaks(problem: solver.Problem, machine: solver.Machine) -> list[tuple[int, int]]:
    """Everything outside the machine's open windows, and its fixed bookings, as PyJobShop
    machine breaks: a task that may not be interrupted (allow_breaks=False) never overlaps one,
    which is exactly our rule that an operation runs inside one open window and beside fixed
    time."""
    closed = [(f.start, f.end) for f in problem.fixed if f.machine == machine.id]
    if machine.open is not None:
        t = 0
        for start, end in problem.windows(machine.id):
            if start > t:
                closed.append((t, start))
            t = max(t, end)
        if t < problem.horizon:
            closed.append((t, problem.horizon))
    return _merge(closed)


def to_pyjobshop(problem: solver.Problem):
    """The problem as a PyJobShop 0.0.9 model, and its tasks in our operations' order.

    Alternative machines are modes; order with minimum lags is end-before-start with a delay;
    release dates, due dates, deadlines and weights are the job's; closures and fixed bookings
    are machine breaks; the horizon is each task's latest end; the objective is weighted total
    tardiness (PyJobShop weighs each job's tardiness by the job's weight) plus makespan, with
    our weights."""
    import pyjobshop
    from pyjobshop.constants import MAX_VALUE

    data = pyjobshop.Model()
    machines = {m.id: data.add_machine(breaks=pyjobshop_breaks(problem, m), name=m.id)
                for m in problem.machines}
    tasks = []
    for job in problem.jobs:
        pj = data.add_job(weight=job.weight, release_date=job.release,
                          deadline=MAX_VALUE if job.deadline is None else job.deadline,
                          due_date=job.due, name=job.id)
        previous = None
        for op in job.operations:
            task = data.add_task(job=pj, earliest_start=job.release, latest_end=problem.horizon, name=op.id)
            for mode in op.modes:
                data.add_mode(task, machines[mode.machine], mode.duration)
            if previous is not None:
                data.add_end_before_start(previous, task, delay=op.min_lag)
            previous = task
            tasks.append((op, task))
    data.set_objective(weight_makespan=problem.objective.makespan,
                       weight_total_tardiness=problem.objective.weighted_tardiness)
    return data, tasks


def run_pyjobshop(problem: solver.Problem, limit: float, workers: int, seed: int) -> dict | None:
    """PyJobShop on its own OR-Tools model of the problem, at the same limit, workers and seed.

    Its model is solved through its OR-Tools wrapper (`pyjobshop.solvers.ortools.CPModel`)
    with a solution callback, the only way to see when its first schedule came; its schedule
    is then read back with the wrapper's own conversion and judged by our checker."""
    try:
        import pyjobshop  # noqa: F401
        from ortools.sat.python import cp_model
        from pyjobshop.solvers.ortools import CPModel
    except ImportError:
        return None
    t = time.perf_counter()
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
    out = {"objective": None, "own_objective": None, "bound": None, "status": cp.status_name(status),
           "first": first.get("t"), "seconds": seconds, "build": build, "valid": None}
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return out
    out["own_objective"] = int(cp.objective_value)
    out["bound"] = int(cp.best_objective_bound)
    # Its schedule in our terms, judged by our checker and our objective.
    best = wrapper._convert_to_solution(cp)
    names = [r.name for r in pjs_data.resources]
    assignments = []
    for (op, _task), scheduled in zip(tasks, best.tasks):
        machine = names[scheduled.resources[0]]
        assignments.append(solver.Assignment(op.id, machine, scheduled.start, scheduled.end))
    ours = objective_value(problem, objective_terms(problem, {a.operation: a for a in assignments}))
    mine = solver.Solution(status="feasible", objective=ours, bound=None, seconds=seconds,
                           assignments=tuple(assignments))
    violations = solver.check(problem, mine)
    out["valid"] = not violations
    out["violations"] = violations[:5]
    out["objective"] = ours if not violations else None
    return out


def run_house(sizes: list[str], seeds: int, limit: float, workers: int, with_peer: bool) -> list[dict]:
    """Each size's generated problems for seeds 1..N, each solved by both solvers with that seed;
    objectives by our checker, then a summary per size (means over the seeds)."""
    rows = []
    print(f"{'instance':<20}{'mach':>5}{'jobs':>5}{'greedy':>9}{'greedy s':>9}{'ours':>9}{'first s':>8}"
          f"{'status':>10}{'pjs':>9}{'pjs first':>10}{'pjs status':>12}{'ratio':>7}")
    for size in sizes:
        for seed in range(1, seeds + 1):
            problem = generate(size, seed)
            # The greedy schedule alone, timed here: solve() builds it first and keeps it when
            # CP-SAT finds nothing better, so it is when our first feasible schedule exists.
            t = time.perf_counter()
            greedy_assignments, greedy_unscheduled = greedy(problem)
            greedy_seconds = time.perf_counter() - t
            greedy_value = objective_value(problem, objective_terms(
                problem, {a.operation: a for a in greedy_assignments}))
            ours = run_ours(problem, limit, workers, seed)
            ours.update(greedy_seconds=greedy_seconds, greedy_objective=greedy_value,
                        greedy_unscheduled=len(greedy_unscheduled))
            peer = run_pyjobshop(problem, limit, workers, seed) if with_peer else None
            ratio = (ours["objective"] / peer["objective"]
                     if peer and peer["objective"] and ours["valid"] else None)
            row = {"instance": problem.name, "size": size, "seed": seed,
                   "machines": len(problem.machines), "jobs": len(problem.jobs),
                   "operations": sum(len(j.operations) for j in problem.jobs),
                   "ours": ours, "pyjobshop": peer, "ratio": ratio}
            rows.append(row)
            p = peer or {}
            our_value = ours["objective"] if ours["valid"] else "INVALID"
            peer_first = f"{p['first']:.2f}" if p.get("first") is not None else "-"
            peer_value = p.get("objective") if p.get("objective") is not None else ("none" if peer else "-")
            print(f"{problem.name:<20}{row['machines']:>5}{row['jobs']:>5}{greedy_value:>9}"
                  f"{greedy_seconds:>9.3f}{our_value:>9}"
                  f"{ours['first'] or 0:>8.3f}{ours['status']:>10}{peer_value:>9}{peer_first:>10}"
                  f"{p.get('status', '-'):>12}{(f'{ratio:.3f}' if ratio is not None else '-'):>7}", flush=True)
    print()
    print("per size, means over the seeds (objective by our checker; PyJobShop mean only over the seeds "
          "where it found a schedule)")
    for size in sizes:
        mine = [r for r in rows if r["size"] == size]
        ours = [r["ours"]["objective"] for r in mine if r["ours"]["valid"]]
        firsts = [r["ours"]["greedy_seconds"] for r in mine]
        peers = [r["pyjobshop"]["objective"] for r in mine if r["pyjobshop"] and r["pyjobshop"]["objective"]]
        ratios = [r["ratio"] for r in mine if r["ratio"] is not None]
        print(f"{size:<8} {mine[0]['machines']} machines, {mine[0]['jobs']} jobs: "
              f"ours {statistics.mean(ours) if ours else float('nan'):.0f} ({len(ours)}/{len(mine)} valid), "
              f"greedy schedule after at most {max(firsts):.3f} s; PyJobShop "
              f"{f'{statistics.mean(peers):.0f}' if peers else 'no schedule'} ({len(peers)}/{len(mine)} found), "
              f"ratio mean {f'{statistics.mean(ratios):.3f}' if ratios else '-'}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--house", help=f"generated production-house sizes, comma-separated ({', '.join(SIZES)})")
    parser.add_argument("--no-pyjobshop", action="store_true", help="run ours only")
    args = parser.parse_args()
    if args.house:
        sizes = args.house.split(",")
        for size in sizes:
            if size not in SIZES:
                parser.error(f"unknown size {size!r}; choose from {', '.join(SIZES)}")
        rows = run_house(sizes, args.seeds, args.time_limit, args.workers, not args.no_pyjobshop)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2))
        return
    # By default the ten instances the published tables (and issue 4's goal) are about.
    files = args.files or [FJSP / "brandimarte" / f"mk{i:02d}.fjs" for i in range(1, 11)]
    bks = best_known()
    rows = []
    print(f"{'instance':<10}{'best':>6}{'ours':>7}{'bound':>7}{'status':>10}{'gap %':>7}{'first s':>8}"
          f"{'total s':>8}{'pjs':>7}{'bound':>7}{'status':>10}{'first s':>8}{'total s':>8}{'ratio':>7}")
    for path in files:
        problem = load(path)
        for seed in range(args.seeds):
            ours = run_ours(problem, args.time_limit, args.workers, seed)
            peer = None if args.no_pyjobshop else run_pyjobshop(problem, args.time_limit, args.workers, seed)
            best = bks.get(path.stem)
            gap = 100 * (ours["objective"] - best) / best if best and ours["objective"] is not None else None
            ratio = ours["objective"] / peer["objective"] if peer and peer["objective"] else None
            rows.append({"instance": path.stem, "seed": seed, "best_known": best, "ours": ours,
                         "pyjobshop": peer, "gap_percent": gap, "ratio": ratio})
            p = peer or {}
            peer_first = f"{p['first']:.2f}" if p.get("first") is not None else "-"
            peer_total = f"{p['seconds']:.1f}" if p.get("seconds") is not None else "-"
            print(f"{path.stem:<10}{best or '-':>6}{ours['objective']:>7}{ours['bound'] or '-':>7}"
                  f"{ours['status']:>10}{(f'{gap:.2f}' if gap is not None else '-'):>7}{ours['first']:>8.3f}"
                  f"{ours['seconds']:>8.1f}{p.get('objective') or '-':>7}{p.get('bound') or '-':>7}"
                  f"{p.get('status', '-').lower():>10}{peer_first:>8}{peer_total:>8}"
                  f"{(f'{ratio:.3f}' if ratio else '-'):>7}", flush=True)
    gaps = [r["gap_percent"] for r in rows if r["gap_percent"] is not None]
    if gaps:
        print(f"mean gap to best known: {statistics.mean(gaps):.2f} % over {len(gaps)} runs")
    peer_gaps = [100 * (r["pyjobshop"]["objective"] - r["best_known"]) / r["best_known"]
                 for r in rows if r["best_known"] and r["pyjobshop"] and r["pyjobshop"]["objective"]]
    if peer_gaps:
        print(f"PyJobShop's mean gap to best known: {statistics.mean(peer_gaps):.2f} % over "
              f"{len(peer_gaps)} runs")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
