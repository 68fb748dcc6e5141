"""Solver benchmark: Brandimarte MK01-MK10 (and any problem JSON files) against best-known values.

    python benchmarks/solver_bench.py --time-limit 10 --workers 2 --seeds 3 [FILES...]

Prints a table and, with --json, the raw figures. With PyJobShop installed
(`pip install -e '.[bench]'`) the same instances run with it at the same limit, workers and
seed, side by side.
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


def run_pyjobshop(problem: solver.Problem, limit: float, workers: int, seed: int) -> dict | None:
    try:
        import pyjobshop
    except ImportError:
        return None
    if problem.fixed or any(m.open for m in problem.machines) or problem.objective.weighted_tardiness:
        return None  # only the plain makespan instances are compared here
    data = pyjobshop.Model()
    machines = {m.id: data.add_machine(name=m.id) for m in problem.machines}
    for job in problem.jobs:
        pj = data.add_job(name=job.id)
        tasks = []
        for op in job.operations:
            task = data.add_task(job=pj, name=op.id)
            for mode in op.modes:
                data.add_mode(task, machines[mode.machine], mode.duration)
            tasks.append(task)
        for a, b in zip(tasks, tasks[1:]):
            data.add_end_before_start(a, b)
    t = time.perf_counter()
    result = data.solve("ortools", time_limit=limit, display=False, num_workers=workers)
    return {"objective": int(result.objective) if result.objective is not None else None,
            "bound": int(result.lower_bound) if getattr(result, "lower_bound", None) is not None else None,
            "status": str(result.status), "seconds": time.perf_counter() - t}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    files = args.files or sorted((FJSP / "brandimarte").glob("mk*.fjs"))
    bks = best_known()
    rows = []
    print(f"{'instance':<10}{'best':>7}{'ours':>8}{'bound':>8}{'gap %':>8}{'first s':>9}{'pjs':>8}{'ratio':>7}")
    for path in files:
        problem = load(path)
        for seed in range(args.seeds):
            ours = run_ours(problem, args.time_limit, args.workers, seed)
            peer = run_pyjobshop(problem, args.time_limit, args.workers, seed)
            best = bks.get(path.stem)
            gap = 100 * (ours["objective"] - best) / best if best and ours["objective"] is not None else None
            ratio = ours["objective"] / peer["objective"] if peer and peer["objective"] else None
            rows.append({"instance": path.stem, "seed": seed, "best_known": best, "ours": ours,
                         "pyjobshop": peer, "gap_percent": gap, "ratio": ratio})
            print(f"{path.stem:<10}{best or '-':>7}{ours['objective']:>8}{ours['bound'] or '-':>8}"
                  f"{(f'{gap:.2f}' if gap is not None else '-'):>8}{ours['first']:>9.3f}"
                  f"{(peer or {}).get('objective') or '-':>8}{(f'{ratio:.3f}' if ratio else '-'):>7}",
                  flush=True)
    gaps = [r["gap_percent"] for r in rows if r["gap_percent"] is not None]
    if gaps:
        print(f"mean gap to best known: {statistics.mean(gaps):.2f} % over {len(gaps)} runs")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
