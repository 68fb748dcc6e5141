"""`factoryshare scheduler`, `factoryshare jobs run NAME`, `factoryshare jobs list`."""

from __future__ import annotations

from typing import Any

import click

from factoryshare.cli import Context, pass_context


def register(cli: click.Group) -> None:
    @cli.command("scheduler")
    @pass_context
    def scheduler(ctx: Context) -> None:
        """Run the scheduled jobs forever (one or more such processes: each job runs once per
        interval between them)."""
        from factoryshare.events import check_subscribers
        from factoryshare.jobs.scheduler import build_scheduler

        check_subscribers()
        build_scheduler(ctx.session_factory, ctx.settings.instance_path).start()

    @cli.group("jobs")
    def jobs() -> None:
        """Scheduled jobs."""

    @jobs.command("list")
    def list_jobs() -> None:
        """The jobs the scheduler runs, with their interval."""
        from factoryshare.jobs.registry import DAILY_AT, INTERVALS, JOBS

        for name in JOBS:
            if name in DAILY_AT:
                click.echo(f"{name}\tdaily at {DAILY_AT[name]:%H:%M} house time")
            else:
                click.echo(f"{name}\tevery {INTERVALS.get(name, 15)} min")

    @jobs.command("run")
    @click.argument("name")
    @pass_context
    def run(ctx: Context, name: str) -> None:
        """Run one job now (skipped if another runner holds its lock)."""
        from factoryshare.jobs.runner import run_job

        result = ctx.run(
            lambda session: _summary(run_job(session, name, lock_dir=ctx.settings.instance_path))
        )
        click.echo(result)


def _summary(run: Any) -> str:
    if run is None:
        return "Skipped: another runner holds this job's lock."
    return f"{run.job}: {run.status.value} {run.counts or ''}{run.error or ''}".strip()
