"""Generated production-house problems for the solver benchmark: seeded and deterministic.

    python benchmarks/house_problems.py small,medium,large,xl --seeds 1,2,3 --out /tmp/house

writes one factoryshare-problem/1 file per size and seed. In code: `generate("medium", 1)`.

A generated house looks like a real shared production house: machines in capability groups
(2-8 machines each, each machine a little faster or slower than its neighbours), opening hours
08:00-16:00 Monday to Friday and 08:00-12:00 on Saturday over one or two weeks in minutes from
Monday 00:00, one public holiday that closes the whole house, maintenance that closes a few
machines for some hours or a day, published bookings taking 10-20 % of each machine's open time,
and members' jobs routed through one to three capabilities (garments, leather goods, coffee,
printed cloth), sometimes with a minimum lag for cooling or drying, released over the first
half of the horizon, with due dates and weights 1-3.

Every instance is feasible in principle: each group's work is scaled to at most
`MAX_GROUP_LOAD` of its machines' free time, operations are never longer than a weekday's
opening hours, and a third of every machine's open windows stay free of bookings.

With `real=True` (`--real`; off by default, so the figures stay comparable with earlier runs)
the same house also uses the problem format's fields for real houses, drawn from a random
stream of their own so the rest of the instance is unchanged: a 15-minute slot grid; cutting,
sewing and embroidery steps are pausable, and a quarter of them are large orders of two to four
times the work (up to three weekdays of opening hours, so they run over nights and weekends);
each machine has a cost per hour around its capability's rate, and the objective weighs one
rupiah against 1 000 per weighted minute late and 100 per minute of makespan.

With `lots=True` as well (`--lots`; needs `--real`) about one order in twelve is a large order
of two to four lots, each lot its own job `job-017-lot-1`, ... with the routing of the order,
a normal order's work plus 15 minutes of setup per step, the order's release and due date: lots
may run side by side on a group's machines, as the service plans a request in lots (drawn from
a third stream, so that the real house without lots stays as it was).

The `scale` size is the issue's scale instance: 60 machines over four weeks and exactly 1 000
operations (the jobs are drawn until the operations reach it; the last job's routing is cut
short to fit).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from solver import (
    FixedInterval,
    Job,
    Machine,
    Mode,
    Objective,
    Operation,
    Problem,
    problem_to_dict,
)

DAY = 1440
OPEN = 8 * 60  # 08:00
CLOSE = 16 * 60  # 16:00
SATURDAY_CLOSE = 12 * 60  # 12:00
LONGEST_OPERATION = 7 * 60  # fits in one weekday's opening hours, with an hour to spare
# With real=True: steps that may pause overnight, their longest, the slot grid and machine rates.
PAUSABLE = ("cutting", "sewing", "embroidery")
LONGEST_PAUSABLE = 3 * (CLOSE - OPEN)
GRID = 15
RATES = {
    "cutting": 65_000,
    "sewing": 45_000,
    "leather skiving": 55_000,
    "embroidery": 70_000,
    "roasting": 90_000,
    "grinding": 40_000,
    "printing": 80_000,
    "pressing": 35_000,
    "packing": 25_000,
}
MAX_GROUP_LOAD = 0.55  # of a group's open time less bookings and maintenance


@dataclass(frozen=True)
class Capability:
    name: str
    prefix: str
    # Minutes of one operation on an average machine, before the job's quantity factor.
    shortest: int
    longest: int


CAPABILITIES = {
    c.name: c
    for c in (
        Capability("cutting", "cut", 30, 120),
        Capability("sewing", "sew", 60, 300),
        Capability("leather skiving", "skv", 30, 120),
        Capability("embroidery", "emb", 45, 180),
        Capability("roasting", "roast", 60, 180),
        Capability("grinding", "grind", 20, 60),
        Capability("printing", "print", 45, 150),
        Capability("pressing", "press", 20, 90),
        Capability("packing", "pack", 20, 90),
    )
}


# Products: their routing through capabilities and, per step after the first, the chance of a
# minimum lag after the previous step and its range in minutes.
@dataclass(frozen=True)
class Product:
    name: str
    routing: tuple[str, ...]
    lag: tuple[tuple[float, int, int], ...] = ()  # (chance, least, most) for steps 2..n
    share: int = 1  # how often members order it, relative to the others


PRODUCTS = (
    Product("garment", ("cutting", "sewing", "packing"), share=4),
    Product("alteration", ("sewing",), share=2),
    Product("cut panels", ("cutting", "sewing"), share=2),
    Product("packed goods", ("packing",), share=1),
    Product("leather bag", ("cutting", "leather skiving", "sewing"), share=3),
    # Roasted beans rest before grinding (degassing), then are packed.
    Product(
        "ground coffee",
        ("roasting", "grinding", "packing"),
        lag=((0.7, 120, 720), (0.0, 0, 0)),
        share=3,
    ),
    Product("roasted beans", ("roasting", "packing"), lag=((0.5, 60, 240),), share=2),
    Product("embroidered shirt", ("sewing", "embroidery", "packing"), share=2),
    # Printed cloth dries before it is pressed.
    Product("printed cloth", ("printing", "pressing"), lag=((0.8, 60, 480),), share=2),
    Product(
        "printed bag", ("printing", "sewing", "packing"), lag=((0.6, 60, 360), (0.0, 0, 0)), share=1
    ),
)


@dataclass(frozen=True)
class Size:
    weeks: int
    jobs: int
    groups: tuple[tuple[str, int], ...]  # capability and number of machines
    # Draw jobs until the operations reach this many (the last job cut short); `jobs` then
    # only bounds the owners' count.
    operations: int | None = None

    @property
    def machines(self) -> int:
        return sum(n for _, n in self.groups)


SIZES = {
    "small": Size(1, 30, (("cutting", 3), ("sewing", 3), ("packing", 2))),
    "medium": Size(
        2,
        140,
        (
            ("cutting", 3),
            ("sewing", 5),
            ("leather skiving", 2),
            ("roasting", 2),
            ("grinding", 2),
            ("packing", 3),
        ),
    ),
    "large": Size(
        2,
        200,
        (
            ("cutting", 4),
            ("sewing", 7),
            ("leather skiving", 3),
            ("embroidery", 3),
            ("roasting", 3),
            ("grinding", 2),
            ("printing", 3),
            ("pressing", 2),
            ("packing", 3),
        ),
    ),
    "xl": Size(
        2,
        250,
        (
            ("cutting", 5),
            ("sewing", 8),
            ("leather skiving", 4),
            ("embroidery", 4),
            ("roasting", 4),
            ("grinding", 3),
            ("printing", 4),
            ("pressing", 3),
            ("packing", 5),
        ),
    ),
    # Issue 17's scale instance: 60 machines, 1 000 operations, four weeks.
    "scale": Size(
        4,
        420,
        (
            ("cutting", 7),
            ("sewing", 8),
            ("leather skiving", 6),
            ("embroidery", 6),
            ("roasting", 7),
            ("grinding", 5),
            ("printing", 7),
            ("pressing", 6),
            ("packing", 8),
        ),
        operations=1000,
    ),
}
# A large order in lots: how many, and each lot's extra setup per step.
LOT_ORDER_SHARE = 1 / 12
LOT_SETUP = 15


def _round5(minutes: float) -> int:
    return max(5, round(minutes / 5.0) * 5)


def _subtract(windows: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    out = []
    for s, e in windows:
        if e <= start or s >= end:
            out.append((s, e))
            continue
        if s < start:
            out.append((s, start))
        if end < e:
            out.append((end, e))
    return out


def opening_hours(weeks: int, holiday: int | None) -> list[tuple[int, int]]:
    """The house's open windows: Monday to Friday 08:00-16:00, Saturday 08:00-12:00, in minutes
    from Monday 00:00; `holiday` (a day number) is closed."""
    windows = []
    for day in range(7 * weeks):
        weekday = day % 7
        if weekday == 6 or day == holiday:
            continue
        close = SATURDAY_CLOSE if weekday == 5 else CLOSE
        windows.append((day * DAY + OPEN, day * DAY + close))
    return windows


def generate(size: str, seed: int, real: bool = False, lots: bool = False) -> Problem:
    """A production-house problem of the given size; the same size and seed give the same one.
    `real`: with pausable steps, the slot grid and machine costs; `lots` (with `real`): large
    orders in lots (see the module's docstring)."""
    if lots and not real:
        raise ValueError(
            "lots come with the real-house fields: generate(..., real=True, lots=True)"
        )
    spec = SIZES[size]
    rng = random.Random(f"house-{size}-{seed}")
    # The real-house fields draw from their own stream: the rest stays as without them.
    extra = random.Random(f"house-real-{size}-{seed}")
    lot_rng = random.Random(f"house-lots-{size}-{seed}")
    days = 7 * spec.weeks
    horizon = days * DAY
    weekdays = [d for d in range(days) if d % 7 < 5]
    # A public holiday closes the whole house; never the first Monday, so work can start.
    holiday = rng.choice(weekdays[1:])
    house_open = opening_hours(spec.weeks, holiday)

    # Machines: each a little faster or slower than its group's average.
    groups: dict[str, list[str]] = {}
    speed: dict[str, float] = {}
    for capability, count in spec.groups:
        prefix = CAPABILITIES[capability].prefix
        groups[capability] = [f"{prefix}-{i + 1}" for i in range(count)]
        for machine in groups[capability]:
            speed[machine] = rng.uniform(0.8, 1.25)
    machine_ids = [m for ms in groups.values() for m in ms]

    # Maintenance closes about one machine in four: some hours of a weekday, or the whole day.
    windows: dict[str, list[tuple[int, int]]] = {m: list(house_open) for m in machine_ids}
    open_days = [d for d in weekdays if d != holiday]
    for machine in machine_ids:
        if rng.random() >= 0.25:
            continue
        day = rng.choice(open_days)
        if rng.random() < 0.3:
            start, end = day * DAY + OPEN, day * DAY + CLOSE
        else:
            start = day * DAY + OPEN + 60 * rng.randint(0, 5)
            end = min(day * DAY + CLOSE, start + 60 * rng.randint(2, 4))
        windows[machine] = _subtract(windows[machine], start, end)

    # Published bookings: 10-20 % of each machine's open time, inside its open windows, in
    # blocks of one to four hours on the half hour. A third of each machine's windows stay
    # free of bookings, so that the longest operation always has somewhere to go.
    fixed: list[FixedInterval] = []
    free: dict[str, int] = {}
    for machine in machine_ids:
        open_minutes = sum(e - s for s, e in windows[machine])
        target = rng.uniform(0.10, 0.20) * open_minutes
        taken: list[tuple[int, int]] = []
        booked = 0
        bookable = rng.sample(windows[machine], max(1, (2 * len(windows[machine])) // 3))
        for _attempt in range(200):
            if booked >= target:
                break
            s, e = rng.choice(bookable)
            length = 30 * rng.randint(2, 8)
            if e - s < length:
                continue
            start = s + 30 * rng.randint(0, (e - s - length) // 30)
            end = start + length
            if any(start < te and ts < end for ts, te in taken):
                continue
            taken.append((start, end))
            booked += length
        for k, (start, end) in enumerate(sorted(taken)):
            fixed.append(FixedInterval(f"booking-{machine}-{k + 1}", machine, start, end))
        free[machine] = open_minutes - booked

    # Jobs: a product's routing, a quantity factor for the durations, a release date at the
    # opening of a day in the first half of the horizon (a third are waiting already), a due
    # date some working days after the release, a weight 1-3.
    products = [p for p in PRODUCTS if all(c in groups for c in p.routing)]
    shares = [p.share for p in products]
    release_days = [d for d in open_days if d < days // 2 + 1] or open_days[:1]
    raw: list[dict] = []
    operations_left = spec.operations
    n = -1
    while (n + 1 < spec.jobs) if operations_left is None else operations_left > 0:
        n += 1
        product = rng.choices(products, weights=shares)[0]
        quantity = rng.uniform(0.6, 1.5)
        steps = []
        for k, capability in enumerate(product.routing):
            cap = CAPABILITIES[capability]
            base = rng.uniform(cap.shortest, cap.longest) * quantity
            machines = groups[capability]
            # Now and then an older machine cannot do the job (heavy leather, large prints).
            if len(machines) > 2 and rng.random() < 0.3:
                machines = sorted(rng.sample(machines, len(machines) - 1))
            lag = 0
            if k > 0:
                chance, least, most = product.lag[k - 1] if product.lag else (0.0, 0, 0)
                if rng.random() < chance:
                    lag = 30 * rng.randint(least // 30, most // 30)
            pausable = real and capability in PAUSABLE
            # A large order: more than a day's opening hours of work, whatever the load.
            large = (
                extra.uniform(1.1, 1.8) * (CLOSE - OPEN)
                if pausable and extra.random() < 0.1
                else None
            )
            steps.append(
                {
                    "capability": capability,
                    "base": base,
                    "machines": machines,
                    "lag": lag,
                    "pausable": pausable,
                    "large": large,
                }
            )
        release = 0 if rng.random() < 0.33 else rng.choice(release_days) * DAY + OPEN
        count = 1
        if lots and not any(step["large"] for step in steps) and lot_rng.random() < LOT_ORDER_SHARE:
            count = lot_rng.randint(2, 4)
        if operations_left is not None:
            # The scale instance stops at exactly its operations: the last job is cut short.
            count = max(1, min(count, operations_left // len(steps)))
            steps = steps[:operations_left]
            operations_left -= count * len(steps)
        raw.append(
            {
                "id": f"job-{n + 1:03d}",
                "owner": f"member-{rng.randint(1, max(3, spec.jobs // 8))}",
                "steps": steps,
                "release": release,
                "weight": rng.randint(1, 3),
                "slack_days": rng.choice((1, 2, 2, 3, 3, 4, 5, 7)),
                "lots": count,
            }
        )
    if lots and spec.operations is None and all(j["lots"] == 1 for j in raw):
        # Every house with lots has at least one order in lots.
        eligible = [j for j in raw if not any(step["large"] for step in j["steps"])]
        if eligible:
            lot_rng.choice(eligible)["lots"] = lot_rng.randint(2, 4)

    # Scale each group's work down to at most MAX_GROUP_LOAD of its free time.
    # (Large orders keep their size; the others make room for them.)
    scale: dict[str, float] = {}
    for capability, machines in groups.items():
        work = sum(
            s["base"] * j["lots"]
            for j in raw
            for s in j["steps"]
            if s["capability"] == capability and not s.get("large")
        )
        large = sum(
            s["large"]
            for j in raw
            for s in j["steps"]
            if s["capability"] == capability and s.get("large")
        )
        capacity = sum(free[m] for m in machines) - large
        scale[capability] = min(1.0, MAX_GROUP_LOAD * capacity / work) if work else 1.0
        if large:
            scale[capability] = max(0.2, scale[capability])

    jobs: list[Job] = []
    for j in raw:
        # A large order in lots: each lot is a job of its own, a normal order's work plus setup.
        names = (
            [j["id"]] if j["lots"] == 1 else [f"{j['id']}-lot-{n + 1}" for n in range(j["lots"])]
        )
        setup = LOT_SETUP if j["lots"] > 1 else 0
        for name in names:
            operations = []
            work = 0
            for k, step in enumerate(j["steps"]):
                base = step["large"] or step["base"] * scale[step["capability"]]
                longest = LONGEST_PAUSABLE if step["pausable"] else LONGEST_OPERATION
                modes = tuple(
                    Mode(m, min(longest, _round5(setup + base * speed[m])))
                    for m in step["machines"]
                )
                operations.append(
                    Operation(
                        f"{name}/{k + 1}", modes, min_lag=step["lag"], pausable=step["pausable"]
                    )
                )
                work += min(m.duration for m in modes) + step["lag"]
            # Due: the job's own work plus some working days of waiting, from its release.
            due = j["release"] + work + j["slack_days"] * DAY
            jobs.append(
                Job(
                    name,
                    tuple(operations),
                    owner=j["owner"],
                    release=j["release"],
                    due=due,
                    weight=j["weight"],
                )
            )

    if not real:
        return Problem(
            name=f"house-{size}-seed{seed}",
            horizon=horizon,
            machines=tuple(Machine(m, tuple(windows[m])) for m in machine_ids),
            jobs=tuple(jobs),
            fixed=tuple(fixed),
            # Weighted tardiness is what members feel; the makespan only breaks ties.
            objective=Objective(weighted_tardiness=10, makespan=1),
        )
    capability_of = {m: c for c, ms in groups.items() for m in ms}
    # A faster machine costs a little more an hour; rates in whole thousands of rupiah.
    rates = {
        m: 1000 * round(RATES[capability_of[m]] * extra.uniform(0.85, 1.2) / 1000)
        for m in machine_ids
    }
    return Problem(
        name=f"house-{size}-seed{seed}-real" + ("-lots" if lots else ""),
        horizon=horizon,
        machines=tuple(Machine(m, tuple(windows[m]), cost_per_hour=rates[m]) for m in machine_ids),
        jobs=tuple(jobs),
        fixed=tuple(fixed),
        # A weighted minute late weighs as much as Rp1 000 of machine time.
        objective=Objective(weighted_tardiness=1000, makespan=100, cost=1),
        grid=GRID,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", help=f"comma-separated, from {', '.join(SIZES)}")
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds")
    parser.add_argument("--out", type=Path, default=Path("."))
    parser.add_argument(
        "--real",
        action="store_true",
        help="with pausable steps, the 15-minute slot grid and machine costs",
    )
    parser.add_argument("--lots", action="store_true", help="with --real: large orders in lots")
    args = parser.parse_args()
    if args.lots and not args.real:
        parser.error("--lots needs --real")
    args.out.mkdir(parents=True, exist_ok=True)
    for size in args.sizes.split(","):
        if size not in SIZES:
            parser.error(f"unknown size {size!r}; choose from {', '.join(SIZES)}")
        for seed in (int(s) for s in args.seeds.split(",")):
            problem = generate(size, seed, real=args.real, lots=args.lots)
            path = args.out / f"{problem.name}.json"
            path.write_text(json.dumps(problem_to_dict(problem), indent=1))
            print(
                f"{path}: {len(problem.machines)} machines, {len(problem.jobs)} jobs, "
                f"{sum(len(j.operations) for j in problem.jobs)} operations, {len(problem.fixed)} bookings"
            )


if __name__ == "__main__":
    main()
