"""Users, site scopes and bearer tokens (random, stored only as SHA-256 hashes).

A token has 256 bits of entropy, so a fast hash is the right tool: there is nothing to
brute-force, and look-up stays one indexed query per request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stockpilot.governance.permissions import ROLES
from stockpilot.persistence import journal
from stockpilot.persistence.tables import api_token, app_user, site, user_site
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import Conflict, Unauthorized, ValidationFailed
from stockpilot.shared.sql import insert_id

TOKEN_PREFIX = "sp_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(
    conn: Connection, actor: Actor, name: str, role: str, site_codes: Sequence[str] = ()
) -> tuple[int, str]:
    """Create a user with a first token; returns ``(user_id, token)``. The token is shown once."""
    if role not in ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(ROLES)}", field="role")
    if not name or len(name) > 80:
        raise ValidationFailed("name must be 1 to 80 characters", field="name")
    if conn.execute(sa.select(app_user.c.id).where(app_user.c.name == name)).scalar():
        raise Conflict(f"user {name!r} already exists", field="name")
    site_ids = []
    for code in site_codes:
        found = conn.execute(sa.select(site.c.id).where(site.c.code == code)).scalar()
        if found is None:
            raise ValidationFailed(f"unknown site {code!r}", field="site")
        site_ids.append(int(found))
    user_id = insert_id(
        conn,
        app_user.insert().values(name=name, role=role, all_sites=not site_ids, created_at=utcnow()),
    )
    if site_ids:
        conn.execute(user_site.insert(), [{"user_id": user_id, "site_id": s} for s in site_ids])
    token = issue_token(conn, user_id)
    journal.record(
        conn,
        actor,
        action="user.created",
        entity_type="user",
        entity_id=user_id,
        detail={"name": name, "role": role, "sites": list(site_codes)},
        topic="user.created",
    )
    return user_id, token


def issue_token(conn: Connection, user_id: int) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        api_token.insert().values(
            user_id=user_id, token_hash=hash_token(token), created_at=utcnow()
        )
    )
    return token


def authenticate(conn: Connection, token: str, origin: str | None = None) -> Actor:
    """The actor a bearer token stands for: one indexed query (the user with one row per site
    they are bound to)."""
    rows = conn.execute(
        sa.select(
            app_user.c.id,
            app_user.c.name,
            app_user.c.role,
            app_user.c.all_sites,
            user_site.c.site_id,
        )
        .join(api_token, api_token.c.user_id == app_user.c.id)
        .outerjoin(user_site, user_site.c.user_id == app_user.c.id)
        .where(
            api_token.c.token_hash == hash_token(token),
            api_token.c.revoked_at.is_(None),
            app_user.c.active.is_(True),
        )
    ).all()
    if not rows:
        raise Unauthorized("invalid or revoked token")
    row = rows[0]
    sites = frozenset(r.site_id for r in rows if r.site_id is not None)
    return Actor(
        user_id=row.id,
        name=row.name,
        role=row.role,
        all_sites=bool(row.all_sites),
        site_ids=sites,
        origin=origin,
    )
