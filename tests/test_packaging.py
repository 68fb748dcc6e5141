"""What the package ships: every package-data pattern matches files, and nothing the running
service reads from disk is left out of an installed (non-editable) copy."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _package_data() -> dict[str, list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return config["tool"]["setuptools"]["package-data"]


def test_every_package_data_pattern_matches_a_file():
    empty = [
        f"{package}: {pattern}"
        for package, patterns in _package_data().items()
        for pattern in patterns
        if not any(p.is_file() for p in (ROOT / package).glob(pattern))
    ]
    assert empty == []


def test_the_migrations_templates_and_translations_are_shipped():
    shipped = {
        path.relative_to(ROOT).as_posix()
        for package, patterns in _package_data().items()
        for pattern in patterns
        for path in (ROOT / package).glob(pattern)
        if path.is_file()
    }
    needed = [
        "factoryshare/migrations/env.py",
        "factoryshare/migrations/script.py.mako",
        *[
            p.relative_to(ROOT).as_posix()
            for p in (ROOT / "factoryshare/migrations/versions").glob("*.py")
        ],
        *[p.relative_to(ROOT).as_posix() for p in (ROOT / "api/templates").rglob("*.html")],
        *[p.relative_to(ROOT).as_posix() for p in (ROOT / "api/static").iterdir()],
        *[p.relative_to(ROOT).as_posix() for p in (ROOT / "api/translations").rglob("*.mo")],
    ]
    assert sorted(set(needed) - shipped) == []
