"""The one clock of the product: every rule that asks "what time is it" reads `now()`.

`now()` is the wall clock in UTC (timezone-aware) unless a source is installed with
`use(source)` (or for a block with `using(source)`); the tests' `clock` fixture installs a
frozen one, so that "today", "in the past" and "expires in 30 days" mean the same whatever day
the suite runs. Nothing in the product installs a source: in production `now()` is always the
wall clock.

Reads that stay on the wall clock on purpose: APScheduler's first-run dates
(`jobs.scheduler.build_scheduler`; the scheduler fires on its own wall clock), the rate
limiter's Retry-After (`api.security`; flask-limiter stores its windows in wall-clock epoch
seconds) and the data migrations' stamps (a migration runs once, outside any test clock).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Source = Callable[[], dt.datetime]

_source: Source | None = None


def now() -> dt.datetime:
    """The current instant, aware, in UTC."""
    if _source is None:
        return dt.datetime.now(dt.UTC)
    instant = _source()
    if instant.tzinfo is None:
        # A naive instant would be read as local time somewhere and as UTC elsewhere.
        raise ValueError("the clock's source gave a naive datetime; times must carry a zone")
    return instant.astimezone(dt.UTC)


def use(source: Source | None) -> None:
    """Read the time from `source` from now on (None: the wall clock again)."""
    global _source
    _source = source


@contextmanager
def using(source: Source) -> Iterator[None]:
    """Read the time from `source` inside the block, then from whatever was there before."""
    before = _source
    use(source)
    try:
        yield
    finally:
        use(before)
