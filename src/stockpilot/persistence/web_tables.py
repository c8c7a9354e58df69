"""Tables of signing in to the web pages: a user's password (argon2 hash) with their failed
attempts and lock-out, and the server-side sessions a browser's cookie stands for.

A session row is found by the SHA-256 of the cookie's random value (like an API token), so a
copy of the database cannot be replayed as a cookie; its CSRF token sits beside it.
"""

from __future__ import annotations

import sqlalchemy as sa

from stockpilot.persistence.tables import Id, metadata

user_password = sa.Table(
    "user_password",
    metadata,
    sa.Column("user_id", Id, sa.ForeignKey("app_user.id"), primary_key=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("failed_sign_ins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime, nullable=True),
    sa.Column("changed_at", sa.DateTime, nullable=False),
)

web_session = sa.Table(
    "web_session",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", Id, sa.ForeignKey("app_user.id"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("last_seen_at", sa.DateTime, nullable=False),
    sa.Column("ended_at", sa.DateTime, nullable=True),
    sa.Column("origin", sa.String(100), nullable=True),
)
sa.Index("ix_web_session_user", web_session.c.user_id)
