"""A Flask test client of the app, signed in: a real session in Redis, its cookies, and the CSRF token
that callback POSTs must echo in X-CSRFToken. Shared by the pages' integration tests."""

from __future__ import annotations

from dispatch.store import accounts
from dispatch.web.auth import CSRF_COOKIE, SESSION_COOKIE


def signed_in(app, redis_client, keys, *, user_id: str, role: str):
    """(test client, CSRF token) for a fresh session of `user_id` in `role`."""
    client = app.server.test_client()
    session_id, identity = accounts.create_session(redis_client, keys, user_id=user_id, role=role)
    client.set_cookie(SESSION_COOKIE, session_id, domain="localhost")
    client.set_cookie(CSRF_COOKIE, identity.csrf_token, domain="localhost")
    return client, identity.csrf_token
