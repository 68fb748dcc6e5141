"""The installed `factoryshare` command: the domain's commands plus `serve`."""

from __future__ import annotations

import click

from factoryshare.cli import cli


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True)
def serve(host: str, port: int) -> None:
    """Serve the API and pages (development server; use gunicorn 'api.wsgi:app' in production)."""
    from werkzeug.serving import run_simple

    from api import create_app

    app = create_app()
    click.echo(f"Serving factoryshare on http://{host}:{port}/ (OpenAPI: /api/v1/openapi.json)")
    run_simple(host, port, app, threaded=True, use_reloader=False)


def main() -> None:
    cli.main(prog_name="factoryshare")
