"""Property-based testing of the whole API against its own OpenAPI document (schemathesis).

Every operation is called with generated valid and invalid inputs, signed in as an admin
(the widest scope). No answer may be a server error, and every answer must match the schema
the document declares for it.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from factoryshare.models import Role

schema = schemathesis.pytest.from_fixture("api_schema")

pytestmark = pytest.mark.slow

# Examples per operation; raise it locally (FUZZ_EXAMPLES=200) for a deeper search.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))


@pytest.fixture()
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture()
def admin_headers(make_user, token_for, make_machine, make_member, make_product):
    # A little data, so that some generated ids hit real objects.
    machine = make_machine()
    make_product(member=make_member(house_id=machine.house_id))
    return token_for(make_user(Role.admin))


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_with_a_server_error_or_breaks_its_schema(case, admin_headers):
    # The public .ics feed is not JSON; its own tests cover it.
    case.call_and_validate(
        headers=admin_headers,
        checks=[not_a_server_error, response_schema_conformance],
    )
