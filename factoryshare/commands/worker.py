"""`factoryshare worker`: execute queued schedule runs (any number of workers may run)."""

from __future__ import annotations

import click

from factoryshare.cli import Context, pass_context


def register(cli: click.Group) -> None:
    @cli.command("worker")
    @click.option("--once", is_flag=True, help="take at most one run, then stop")
    @click.option(
        "--poll-seconds",
        type=click.FloatRange(0.1, 3600),
        default=2.0,
        show_default=True,
        help="wait this long when the queue is empty",
    )
    @pass_context
    def worker_command(ctx: Context, once: bool, poll_seconds: float) -> None:
        """Claim queued schedule runs one at a time and execute them (CP-SAT with SOLVER_WORKERS
        threads)."""
        from factoryshare import worker
        from factoryshare.events import check_subscribers

        check_subscribers()
        if once:
            taken = worker.run_once(
                ctx.session_factory,
                workers=ctx.settings.solver_workers,
                work_per_second=ctx.settings.solver_work_per_second,
            )
            click.echo(f"Took run {taken}." if taken is not None else "No queued run.")
            return
        worker.loop(
            ctx.session_factory,
            poll_seconds=poll_seconds,
            workers=ctx.settings.solver_workers,
            work_per_second=ctx.settings.solver_work_per_second,
        )
