"""Keycloak-like token endpoint logic and the bearer check of `/api/` calls.

Tokens are random and opaque; only their SHA-256 is stored. Refresh tokens are not revoked when
used (Keycloak's default), but a refresh for an account removed from ACCOUNTS fails.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from covage.sandbox.knobs import accounts, knob
from covage.sandbox.models import SandboxAccount, SandboxToken

CLIENT_ID = "api-client"
SCOPE = "profile email"


@dataclass
class TokenError(Exception):
    status: int
    error: str
    description: str

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue(account: SandboxAccount, session_state: str) -> dict[str, Any]:
    now = timezone.now()
    token_ttl = int(knob("TOKEN_TTL"))
    refresh_ttl = int(knob("REFRESH_TTL"))
    access = secrets.token_urlsafe(32)
    refresh = secrets.token_urlsafe(32)
    SandboxToken.objects.bulk_create(
        [
            SandboxToken(
                account=account,
                kind=SandboxToken.ACCESS,
                token_hash=hash_token(access),
                session_state=session_state,
                expires_at=now + timedelta(seconds=token_ttl),
            ),
            SandboxToken(
                account=account,
                kind=SandboxToken.REFRESH,
                token_hash=hash_token(refresh),
                session_state=session_state,
                expires_at=now + timedelta(seconds=refresh_ttl),
            ),
        ]
    )
    return {
        "access_token": access,
        "expires_in": token_ttl,
        "refresh_expires_in": refresh_ttl,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "not-before-policy": 0,
        "session_state": session_state,
        "scope": SCOPE,
    }


def grant(form: dict[str, str]) -> tuple[SandboxAccount, dict[str, Any]]:
    """Answer one token request; raises TokenError with Keycloak's status and error code."""
    grant_type = form.get("grant_type", "")
    if not grant_type:
        raise TokenError(400, "invalid_request", "Missing form parameter: grant_type")
    if form.get("client_id", "") != CLIENT_ID:
        raise TokenError(401, "invalid_client", "Invalid client or Invalid client credentials")
    if grant_type == "password":
        username = form.get("username", "")
        password = form.get("password", "")
        known = accounts()
        expected = known.get(username)
        if (
            not username
            or expected is None
            or not hmac.compare_digest(expected.encode(), password.encode())
        ):
            raise TokenError(401, "invalid_grant", "Invalid user credentials")
        account, _ = SandboxAccount.objects.get_or_create(username=username)
        # Keeps the token table from growing without bound on a long-running demo.
        account.tokens.filter(expires_at__lte=timezone.now()).delete()
        return account, _issue(account, str(uuid.uuid4()))
    if grant_type == "refresh_token":
        raw = form.get("refresh_token", "")
        if not raw:
            raise TokenError(400, "invalid_request", "Missing parameter: refresh_token")
        token = (
            SandboxToken.objects.select_related("account")
            .filter(kind=SandboxToken.REFRESH, token_hash=hash_token(raw))
            .first()
        )
        if token is None:
            raise TokenError(400, "invalid_grant", "Invalid refresh token")
        if token.expires_at <= timezone.now():
            raise TokenError(400, "invalid_grant", "Token is not active")
        if token.account.username not in accounts():
            raise TokenError(400, "invalid_grant", "Session not active")
        return token.account, _issue(token.account, token.session_state)
    raise TokenError(400, "unsupported_grant_type", "Unsupported grant_type")


@dataclass
class AuthFailure:
    message: str


def authenticate(request: HttpRequest) -> SandboxAccount | AuthFailure:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if not header:
        return AuthFailure("Authentication credentials were not provided.")
    if scheme.lower() != "bearer" or not raw.strip():
        return AuthFailure("Invalid authorization header.")
    token = (
        SandboxToken.objects.select_related("account")
        .filter(kind=SandboxToken.ACCESS, token_hash=hash_token(raw.strip()))
        .first()
    )
    if token is None:
        return AuthFailure("Invalid token.")
    if token.expires_at <= timezone.now():
        return AuthFailure("Token expired.")
    return token.account
