"""Every route of the app, for every role: the outcome its declared policy promises.

A route whose handler declares no policy (`@allow(...)` or `@public`) fails this suite, so no
new route can ship without an authorisation decision. For each handler and role:
- without a token: 401 (unless public);
- a role the policy does not admit: 403, before any object is looked up (so a 403 never
  reveals whether the object exists);
- an admitted role asking for an object id that is not in its scope: 404, never 403 or 500.
"""

from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter

from api.security import policy_of
from factoryshare.models import Role

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MISSING_ID = 987_654_321


def _handlers(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static",) or rule.rule.endswith("openapi.json"):
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods & set(METHODS)):
            view_class = getattr(view, "view_class", None)
            handler = getattr(view_class, method.lower(), None) if view_class else view
            yield rule, method, handler


def _url(rule) -> str:
    url = rule.rule
    for name in rule.arguments:
        converter = rule._converters[name]
        value = str(MISSING_ID) if isinstance(converter, IntegerConverter) else "x" * 40
        url = re.sub(rf"<(?:[a-z]+:)?{name}>", value, url)
    return url


def test_every_route_declares_who_may_call_it(app):
    missing = [
        f"{method} {rule.rule}"
        for rule, method, handler in _handlers(app)
        if policy_of(handler) == "missing"
    ]
    assert missing == [], "routes without a role policy"


def test_each_role_gets_the_outcome_its_policy_declares(app, client, make_user, token_for):
    users = {role: make_user(role) for role in Role}
    wrong: list[str] = []
    checked = 0
    for rule, method, handler in _handlers(app):
        policy = policy_of(handler)
        if policy == "missing" or rule.endpoint.startswith("web."):
            continue  # browser pages answer with redirects and HTML: tests/web checks them
        url = _url(rule)
        body = {} if method in ("POST", "PUT", "PATCH") else None
        if policy is not None:
            r = client.open(url, method=method, json=body)
            if r.status_code != 401:
                wrong.append(f"anonymous {method} {rule.rule}: {r.status_code}, expected 401")
        for role in Role:
            # A fresh token each time: the logout route revokes the one it is called with.
            r = client.open(url, method=method, json=body, headers=token_for(users[role]))
            checked += 1
            admitted = policy is None or role in policy
            if r.status_code >= 500:
                wrong.append(f"{role.value} {method} {rule.rule}: {r.status_code}")
            elif not admitted and r.status_code != 403:
                wrong.append(f"{role.value} {method} {rule.rule}: {r.status_code}, expected 403")
            elif admitted and r.status_code in (401, 403) and rule.arguments:
                wrong.append(
                    f"{role.value} {method} {rule.rule}: {r.status_code} on an object "
                    "outside its scope, expected 404 (or a 4xx about the input)"
                )
            elif admitted and r.status_code == 401:
                wrong.append(f"{role.value} {method} {rule.rule}: 401 with a valid token")
            if r.status_code >= 400:
                assert set(r.get_json() or {}) >= {"code", "status", "message", "errors"}, (
                    f"{method} {rule.rule} broke the error shape"
                )
    assert checked > 0
    assert wrong == []
