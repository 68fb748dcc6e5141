"""`factoryshare notifications send`: deliver the messages waiting in the outbox."""

from __future__ import annotations

import click

from factoryshare.cli import Context, pass_context


def register(cli: click.Group) -> None:
    @cli.group("notifications")
    def notifications() -> None:
        """The notification outbox."""

    @notifications.command("send")
    @click.option(
        "--limit",
        type=click.IntRange(1, 10_000),
        default=100,
        show_default=True,
        help="at most this many messages in this run",
    )
    @pass_context
    def send(ctx: Context, limit: int) -> None:
        """Send due messages (SMTP when SMTP_HOST is set, otherwise to the log); failures retry later."""
        from factoryshare.services.notifications import send_pending

        counts = send_pending(ctx.session_factory, ctx.settings, limit=limit)
        click.echo(
            f"Sent {counts.sent}, will retry {counts.retrying}, failed for good {counts.failed}."
        )
