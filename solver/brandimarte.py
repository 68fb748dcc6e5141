"""Reading flexible job-shop instances in the Brandimarte/FJSPLIB text format.

First line: jobs, machines (and an average that is ignored). Then one line per job: the
number of operations, and for each operation the number of modes followed by pairs of
(1-based machine, duration). The objective is the makespan.
"""

from __future__ import annotations

from pathlib import Path

from solver.problem import Job, Machine, Mode, Objective, Operation, Problem


def read_brandimarte(path: str | Path) -> Problem:
    path = Path(path)
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    n_jobs, n_machines = int(lines[0][0]), int(lines[0][1])
    jobs = []
    total = 0
    for j in range(n_jobs):
        numbers = [int(x) for x in lines[1 + j]]
        pos = 1
        ops = []
        for k in range(numbers[0]):
            n_modes = numbers[pos]
            pos += 1
            modes = []
            for _ in range(n_modes):
                modes.append(Mode(f"m{numbers[pos]}", numbers[pos + 1]))
                pos += 2
            total += max(m.duration for m in modes)
            ops.append(Operation(f"j{j + 1}/{k + 1}", tuple(modes)))
        jobs.append(Job(f"j{j + 1}", tuple(ops)))
    return Problem(
        name=path.stem,
        horizon=total,
        machines=tuple(Machine(f"m{i + 1}") for i in range(n_machines)),
        jobs=tuple(jobs),
        objective=Objective(makespan=1),
    )
