"""The architecture is one-way: api -> factoryshare -> solver. These tests keep it so."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imported_roots(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_solver_imports_neither_flask_nor_sqlalchemy_nor_the_service():
    forbidden = {
        "flask",
        "flask_smorest",
        "sqlalchemy",
        "marshmallow",
        "apscheduler",
        "factoryshare",
        "api",
        "alembic",
    }
    imported = _imported_roots("solver")
    offenders = {name: sorted(files) for name, files in imported.items() if name in forbidden}
    assert offenders == {}


def test_the_domain_never_imports_the_http_layer():
    imported = _imported_roots("factoryshare")
    offenders = {
        name: sorted(files) for name, files in imported.items() if name in {"api", "flask_smorest"}
    }
    assert offenders == {}


def test_the_domain_does_not_reach_for_flask_request_state():
    # Services take a session and plain values; they never read flask.request/session/g.
    imported = _imported_roots("factoryshare")
    assert "flask" not in imported, sorted(imported.get("flask", []))


def test_every_event_subscriber_resolves_and_a_renamed_one_fails_loudly(monkeypatch):
    import pytest

    from factoryshare import events

    events.check_subscribers()
    monkeypatch.setitem(
        events.SUBSCRIBERS,
        "booking_created",
        ["factoryshare.subscribers.renamed_away:on_booking_created"],
    )
    with pytest.raises(ModuleNotFoundError):
        events.check_subscribers()


def test_every_service_takes_the_session_then_the_actor_then_plain_values():
    # One signature rule for the use cases (CONTRIBUTING): verb_noun(session, actor, ...).
    # Event subscribers (on_*) take the event's payload instead.

    wrong = []
    services = [
        *(ROOT / "factoryshare" / "services").rglob("*.py"),
        ROOT / "factoryshare" / "jobs" / "__init__.py",
    ]
    for path in services:
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith(("_", "on_")):
                continue
            names = [a.arg for a in node.args.args]
            ordered = names[:2] == ["session", "actor"]
            # A list reads the caller's scope with the session, like any other use case.
            if not ordered and (
                ("session" in names and "actor" in names) or node.name.startswith("list_")
            ):
                wrong.append(f"{path.relative_to(ROOT)}:{node.name}({', '.join(names[:3])})")
    assert wrong == []
