"""A machine's open time as the model and the greedy builder see it (the checker has its own).

A pausable operation that starts at `s` inside an open window ends where it has used its
duration of open minutes: e = s + duration + the closed minutes it waits through. Within one
window that waiting time is constant, and it changes only where the end crosses a window
boundary, so the starts fall into a few ranges of equal waiting time (`pause_segments`): the
model gives each distinct waiting time one literal, whatever the number of candidate starts.
"""

from __future__ import annotations

import bisect


def round_up(value: int, grid: int) -> int:
    return -(-value // grid) * grid


def round_down(value: int, grid: int) -> int:
    return (value // grid) * grid


class Calendar:
    def __init__(self, windows: tuple[tuple[int, int], ...]) -> None:
        # The windows as given (an unpausable operation stays inside one of them) ...
        self.windows = windows
        self.window_starts = [s for s, _ in windows]
        self.window_ends = [e for _, e in windows]
        # ... and merged where they touch: a pause of no minutes is no pause.
        merged: list[tuple[int, int]] = []
        for s, e in windows:
            if merged and s <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((s, e))
        self.starts = [s for s, _ in merged]
        self.ends = [e for _, e in merged]
        # Open minutes before each merged window, and up to its end.
        self.before: list[int] = []
        self.through: list[int] = []
        total = 0
        for s, e in merged:
            self.before.append(total)
            total += e - s
            self.through.append(total)

    def window_at(self, t: int) -> int | None:
        """The merged window with t in [start, end), if any."""
        i = bisect.bisect_right(self.starts, t) - 1
        return i if i >= 0 and t < self.ends[i] else None

    def pausable_end(self, start: int, duration: int, window: int | None = None) -> int | None:
        """Where a pausable operation starting at `start` ends: None if `start` is closed or the
        open time left in the horizon is too short. `window`: the merged window of `start`,
        when the caller knows it."""
        i = self.window_at(start) if window is None else window
        if i is None:
            return None
        used = self.before[i] + (start - self.starts[i]) + duration
        j = bisect.bisect_left(self.through, used, lo=i)
        if j == len(self.through):
            return None
        return self.starts[j] + (used - self.before[j])

    def pause_segments(
        self, earliest: int, latest: int, duration: int
    ) -> dict[int, list[tuple[int, int]]]:
        """The starts of a pausable operation in [earliest, latest], as inclusive ranges per
        number of closed minutes waited through."""
        out: dict[int, list[tuple[int, int]]] = {}
        for i, (ws, we) in enumerate(zip(self.starts, self.ends)):
            a, b = max(ws, earliest), min(we - 1, latest)
            if a > b:
                continue
            offset_i = ws - self.before[i]
            s = a
            while s <= b:
                used = self.before[i] + (s - ws) + duration
                j = bisect.bisect_left(self.through, used, lo=i)
                if j == len(self.through):
                    break  # the horizon ends first, for this start and every later one
                # Starts up to `last` end in window j.
                last = min(b, ws + self.through[j] - self.before[i] - duration)
                delta = (self.starts[j] - self.before[j]) - offset_i
                ranges = out.setdefault(delta, [])
                if ranges and ranges[-1][1] + 1 >= s:
                    ranges[-1] = (ranges[-1][0], last)
                else:
                    ranges.append((s, last))
                s = last + 1
        return out
