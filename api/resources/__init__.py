"""One module per resource; each exposes `blp`, a flask-smorest Blueprint."""

from __future__ import annotations

import importlib

from api.errors import Api

# Every resource module, in the order their routes appear in the OpenAPI document.
RESOURCE_MODULES = [
    "auth",
]


def register_all(api: Api) -> None:
    for name in RESOURCE_MODULES:
        module = importlib.import_module(f"api.resources.{name}")
        api.register_blueprint(module.blp, url_prefix=f"/api/v1{module.URL_PREFIX}")
