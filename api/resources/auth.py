"""Signing in and out with bearer tokens, and who am I."""

from __future__ import annotations

import marshmallow as ma
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from api.database import db, runtime
from api.schemas import Id, Schema, Text
from api.security import allow, bearer_token, current_actor, end_browser_session, public
from factoryshare.errors import Locked, Unauthorized
from factoryshare.services import accounts

URL_PREFIX = "/auth"
blp = Blueprint("auth", __name__, description="Sign in and out")


class TokenRequest(Schema):
    email = Text(254, min_length=3, required=True)
    password = Text(256, min_length=1, required=True)


class TokenResponse(Schema):
    token = ma.fields.String()
    token_type = ma.fields.String()
    expires_at = ma.fields.AwareDateTime(format="iso")
    user_id = ma.fields.Integer()
    role = ma.fields.String()


class MeSchema(Schema):
    id = Id()
    email = ma.fields.String()
    name = ma.fields.String()
    role = ma.fields.Function(lambda u: u.role.value)
    language = ma.fields.String()
    house_ids = ma.fields.Function(lambda u: [h.id for h in u.houses])
    member_id = ma.fields.Integer(allow_none=True)
    aggregator_id = ma.fields.Integer(allow_none=True)


@blp.route("/token")
class Token(MethodView):
    @public
    @blp.arguments(TokenRequest)
    @blp.response(201, TokenResponse)
    def post(self, data):
        """Exchange an e-mail and password for a bearer token"""
        settings = runtime().settings
        session = db()
        try:
            issued = accounts.sign_in(
                session,
                data["email"],
                data["password"],
                ttl_minutes=settings.token_ttl_minutes,
                max_failures=settings.login_max_failures,
                lock_minutes=settings.login_lock_minutes,
            )
        except (Unauthorized, Locked):
            # The failed attempt must count even though the request fails.
            session.commit()
            raise
        return {
            "token": issued.token,
            "token_type": "Bearer",
            "expires_at": issued.expires_at,
            "user_id": issued.user.id,
            "role": issued.user.role.value,
        }


@blp.route("/logout")
class Logout(MethodView):
    @allow()
    @blp.response(204)
    def post(self):
        """Revoke the bearer token used for this request (or end the browser session)"""
        token = bearer_token()
        if token:
            accounts.revoke_token(db(), token)
        else:
            end_browser_session()


@blp.route("/me")
class Me(MethodView):
    @allow()
    @blp.response(200, MeSchema)
    def get(self):
        """The signed-in user, its role and scope"""
        current_actor()
        return g.user
