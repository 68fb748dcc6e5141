"""Every error code an answer carries is in the one catalogue, which the OpenAPI lists."""

import re
from pathlib import Path

import pytest

from factoryshare import error_codes
from factoryshare.errors import Conflict

ROOT = Path(__file__).resolve().parents[1]
# code="..." in a raise, code = "..." on an error class, and error_response(status, "code", ...).
LITERALS = re.compile(
    r'\bcode\s?=\s?"([a-z_]+)"'  # code="..." and code = "..."
    r'|error_response\(\s*\d{3},\s*"([a-z_]+)"'  # error_response(409, "...")
    r'|\d{3}: "([a-z_]+)",'  # the HTTP defaults table
    r'|\bcode\s?=\s?"[a-z_]+" if .+? else "([a-z_]+)"'  # code="a" if ... else "b"
)


def test_every_error_code_written_in_the_code_is_in_the_catalogue():
    found = set()
    for path in [*ROOT.joinpath("factoryshare").rglob("*.py"), *ROOT.joinpath("api").rglob("*.py")]:
        if "migrations" in path.parts:
            continue
        for match in LITERALS.finditer(path.read_text()):
            found.add(next(g for g in match.groups() if g))
    assert found, "the pattern finds the codes"
    # Codes made from a field's name (aggregators' duplicate_<field>).
    found |= {"duplicate_name", "duplicate_nib"}
    assert sorted(found - set(error_codes.CODES)) == []


def test_a_domain_error_with_a_code_outside_the_catalogue_is_refused():
    with pytest.raises(ValueError):
        Conflict("x", code="made_up_on_the_spot")
    assert Conflict("x", code="quota_exceeded").code == "quota_exceeded"


def test_the_openapi_document_lists_every_code_and_gives_every_4xx_answer_the_error_body(client):
    spec = client.get("/api/v1/openapi.json").json
    code = spec["components"]["schemas"]["Error"]["properties"]["code"]
    assert set(code["enum"]) == set(error_codes.CODES)
    bare = [
        f"{method.upper()} {path} {status}"
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict)
        for status, answer in operation.get("responses", {}).items()
        if str(status).startswith("4") and "content" not in answer and "$ref" not in answer
    ]
    assert bare == []
