"""The `factoryshare` command line: the domain's commands.

`api.cli` adds `serve` and is the installed entry point, so that this package never needs
the HTTP layer. Every command calls the same services as the API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from factoryshare.access import Actor
from factoryshare.config import ConfigError, Settings
from factoryshare.db import make_engine, make_session_factory, transaction
from factoryshare.errors import DomainError


class Context:
    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._factory: Any = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = Settings.from_env()
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
            self._settings.instance_path.mkdir(parents=True, exist_ok=True)
        return self._settings

    @property
    def session_factory(self) -> Any:
        if self._factory is None:
            self._factory = make_session_factory(make_engine(self.settings.database_url))
        return self._factory

    def run(self, use_case: Callable[[Any], Any]) -> Any:
        """Run one use case in one transaction; domain errors become clean CLI errors."""
        try:
            with transaction(self.session_factory) as session:
                return use_case(session)
        except DomainError as exc:
            detail = "".join(
                f"\n  {field}: {'; '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
                for field, msgs in exc.errors.items()
            )
            raise click.ClickException(f"{exc.message}{detail}") from None


pass_context = click.make_pass_decorator(Context, ensure=True)


@click.group()
def cli() -> None:
    """factoryshare: run shared production houses."""


@cli.command("init-db")
@pass_context
def init_db(ctx: Context) -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    from factoryshare.migrate import upgrade

    upgrade(ctx.settings.database_url)
    click.echo(f"Database is up to date ({_safe_url(ctx.settings.database_url)}).")


@cli.command("load-demo")
@pass_context
def load_demo(ctx: Context) -> None:
    """Load the demo data set (two houses, members, an aggregator); safe to run twice."""
    from fixtures.demo import load_demo as _load

    result = ctx.run(_load)
    click.echo(result.summary())


@cli.command("create-user")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option(
    "--role",
    type=click.Choice(["admin", "manager", "member", "aggregator", "lender"]),
    required=True,
)
@click.option("--name", default=None)
@click.option("--language", type=click.Choice(["id", "en"]), default="id")
@click.option("--house", "house_ids", type=int, multiple=True, help="house managed (repeatable)")
@click.option("--member", "member_id", type=int, default=None, help="member business of the user")
@click.option(
    "--aggregator", "aggregator_id", type=int, default=None, help="aggregator of the user"
)
@click.option(
    "--lender", "lender_id", type=int, default=None, help="lender institution of the user"
)
@pass_context
def create_user(
    ctx: Context,
    email: str,
    password: str,
    role: str,
    name: str | None,
    language: str,
    house_ids: tuple[int, ...],
    member_id: int | None,
    aggregator_id: int | None,
    lender_id: int | None,
) -> None:
    """Create a user account with its role and scope."""
    from factoryshare.services import accounts

    user = ctx.run(
        lambda s: accounts.create_user(
            s,
            Actor.system(),
            email=email,
            password=password,
            role=role,
            name=name,
            language=language,
            house_ids=list(house_ids),
            member_id=member_id,
            aggregator_id=aggregator_id,
            lender_id=lender_id,
        )
    )
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@cli.command("create-lender")
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice(["bank", "cooperative"]), default="bank")
@pass_context
def create_lender(ctx: Context, name: str, kind: str) -> None:
    """Create a lender institution (a bank or cooperative) for lender users."""
    from factoryshare.services import lenders

    lender = ctx.run(lambda s: lenders.create_lender(s, Actor.system(), name=name, kind=kind))
    click.echo(f"Created lender {lender.name} (id {lender.id}).")


def _safe_url(url: str) -> str:
    # Never print a password embedded in the URL.
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url


def _register_command_modules() -> None:
    """Each module of `factoryshare.commands` adds its commands with `register(cli)`."""
    import importlib
    import pkgutil

    import factoryshare.commands as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        importlib.import_module(f"{package.__name__}.{info.name}").register(cli)


_register_command_modules()


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="factoryshare")


if __name__ == "__main__":  # pragma: no cover
    main()
