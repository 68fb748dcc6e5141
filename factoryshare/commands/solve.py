"""`factoryshare solve PROBLEM.json`: solve a saved problem file and print a one-line summary.

The file's fields for real houses (grid, pausable and frozen operations, machine cost; see
solver/io.py) are read as they are; the solution written with --out carries the plan's `cost`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from factoryshare.messages import rupiah


def register(cli: click.Group) -> None:
    @cli.command("solve")
    @click.argument("problem_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option(
        "--time-limit", default=10.0, show_default=True, type=click.FloatRange(0.1, 86400)
    )
    @click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
    @click.option("--seed", default=0, show_default=True, type=int)
    @click.option(
        "--deterministic-time",
        type=click.FloatRange(0.01, 86400),
        help="limit CP-SAT by its own measure of work too: with --workers 1 the same file, "
        "seed and limit give the same solution however loaded the machine is",
    )
    @click.option(
        "--out",
        type=click.Path(dir_okay=False, path_type=Path),
        help="write the solution JSON here",
    )
    def solve_command(
        problem_file: Path,
        time_limit: float,
        workers: int,
        seed: int,
        deterministic_time: float | None,
        out: Path | None,
    ) -> None:
        """Solve a factoryshare-problem/1 file (or a Brandimarte .fjs instance)."""
        import solver

        try:
            if problem_file.suffix == ".json":
                problem = solver.problem_from_dict(json.loads(problem_file.read_text()))
            else:
                problem = solver.read_brandimarte(problem_file)
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"{problem_file} is not valid JSON: {exc}") from None
        except (solver.ProblemFormatError, ValueError, IndexError) as exc:
            raise click.ClickException(f"{problem_file}: {exc}") from None
        options = solver.SolveOptions(
            time_limit=time_limit, workers=workers, seed=seed, deterministic_time=deterministic_time
        )
        solution = solver.solve(problem, options)
        if out is not None:
            out.write_text(json.dumps(solver.solution_to_dict(solution), indent=2) + "\n")
        gap = f" gap {100 * solution.gap:.2f} %" if solution.gap is not None else ""
        # The machine cost (machines[].cost_per_hour) apart from the objective; also `cost` in --out.
        cost = f", machine cost {rupiah(solution.cost)}" if solution.cost else ""
        click.echo(
            f"{problem.name or problem_file.stem}: {solution.status}, objective {solution.objective}, "
            f"bound {solution.bound}{gap}{cost}, {len(solution.assignments)} operations placed, "
            f"{len(solution.unscheduled)} jobs unscheduled, {solution.seconds:.2f} s"
        )
