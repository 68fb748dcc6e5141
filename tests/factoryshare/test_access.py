"""The scope rules' registry: every model a role loads has a rule in factoryshare/access/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from factoryshare import access
from factoryshare.access import NOT_SCOPED, SCOPE_RULES, Actor, scope_filter, scoped
from factoryshare.db import Base
from factoryshare.models import Role

ROOT = Path(__file__).resolve().parents[2]

EVERY_ROLE_BUT_ADMIN = [
    Actor(user_id=1, role=Role.manager, house_ids=frozenset({1})),
    Actor(user_id=2, role=Role.member, member_id=1),
    Actor(user_id=3, role=Role.aggregator, aggregator_id=1),
    Actor(user_id=4, role=Role.lender, lender_id=1),
]


def _models_with_an_id() -> set[type]:
    return {m.class_ for m in Base.registry.mappers if "id" in m.columns}


def test_every_model_with_an_id_has_a_scope_rule_or_is_listed_as_not_scoped():
    # A new model must get a rule in factoryshare/access/ or a reason in NOT_SCOPED.
    missing = _models_with_an_id() - set(SCOPE_RULES) - set(NOT_SCOPED)
    assert sorted(m.__name__ for m in missing) == []


def test_no_model_has_a_scope_rule_and_is_listed_as_not_scoped():
    assert sorted(m.__name__ for m in set(SCOPE_RULES) & set(NOT_SCOPED)) == []


@pytest.mark.parametrize("actor", EVERY_ROLE_BUT_ADMIN, ids=lambda a: a.role.value)
def test_every_scope_rule_is_a_query_the_database_runs_for_every_role(db, actor):
    for model in SCOPE_RULES:
        db.scalars(scoped(actor, model).limit(1)).all()


@pytest.mark.parametrize("actor", EVERY_ROLE_BUT_ADMIN, ids=lambda a: a.role.value)
def test_a_model_without_a_rule_cannot_be_loaded_by_a_role_other_than_admin(actor):
    for model in NOT_SCOPED:
        with pytest.raises(LookupError):
            scope_filter(actor, model)


def test_scope_rules_import_models_and_never_services():
    # access/ sits below the services: a rule importing a service would make a cycle.
    offenders = []
    for path in (ROOT / "factoryshare" / "access").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            offenders += [
                f"{path.name}: {n}" for n in names if n.startswith(("factoryshare.services", "api"))
            ]
    assert offenders == []


def test_no_service_writes_its_own_scope_rule():
    # Rules live in factoryshare/access/ only; the old extension point is gone.
    assert not hasattr(access, "register_scope")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "factoryshare" / "services").rglob("*.py")
        if "register_scope" in path.read_text(encoding="utf-8")
        or "SCOPE_RULES" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
