"""How the tests' schedule runs are solved: reproducibly (the worker's `work_per_second`,
SOLVER_WORK_PER_SECOND), so that a plan a test asserts on is the one CP-SAT finds with the same
work on a loaded machine as on a quiet one, not whatever a wall-clock limit left time for."""

WORK_PER_SECOND = 1.0
