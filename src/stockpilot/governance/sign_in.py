"""Signing in to the web pages: passwords (argon2 through pwdlib), lock-out after repeated
failures, and server-side sessions with an idle timeout and a maximum lifetime.

The rules are pure (``after_failure``, ``session_expired``); the service functions load, call
them and write. Bearer tokens (``governance.users``) stay the way in for the API; a session is
the way in for the pages, and both end in the same ``Actor`` so permission and site scope are
decided in one place whichever way a person came in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from pwdlib import PasswordHash
from sqlalchemy.engine import Connection

from stockpilot.persistence import journal
from stockpilot.persistence.tables import app_user, user_site
from stockpilot.persistence.web_tables import user_password, web_session
from stockpilot.shared.actor import Actor
from stockpilot.shared.clock import utcnow
from stockpilot.shared.errors import NotFound, Unauthorized, ValidationFailed

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 200


@dataclass(frozen=True)
class SignInPolicy:
    """How many failures lock an account and for how long; how long a session lives."""

    attempts: int = 5
    lockout: timedelta = timedelta(minutes=15)
    idle: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=12)
    touch_every: timedelta = timedelta(minutes=1)


@dataclass(frozen=True)
class Failure:
    """The state of a password after one more failed attempt."""

    failed_sign_ins: int
    locked_until: datetime | None


def after_failure(failed_sign_ins: int, now: datetime, policy: SignInPolicy) -> Failure:
    """One more failure; the ``attempts``-th in a row locks the account for ``lockout`` and
    starts the count again (so the next lock-out needs as many failures)."""
    failed = failed_sign_ins + 1
    if failed >= policy.attempts:
        return Failure(0, now + policy.lockout)
    return Failure(failed, None)


def session_expired(
    created_at: datetime, last_seen_at: datetime, now: datetime, policy: SignInPolicy
) -> bool:
    return now - last_seen_at > policy.idle or now - created_at > policy.lifetime


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verifying an unknown user's attempt against a real hash keeps its timing the same as a
    # known user's, so the answer's speed does not tell which names exist.
    return _hasher().hash(secrets.token_urlsafe(16))


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def check_password_text(password: str) -> None:
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        raise ValidationFailed(
            f"a password has {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters",
            field="password",
        )


def set_password(conn: Connection, actor: Actor, user_id: int, password: str) -> None:
    """Set (or replace) a user's password; clears failed attempts and any lock-out."""
    check_password_text(password)
    if conn.execute(sa.select(app_user.c.id).where(app_user.c.id == user_id)).scalar() is None:
        raise NotFound(f"user {user_id} not found", field="user")
    values = {
        "password_hash": _hasher().hash(password),
        "failed_sign_ins": 0,
        "locked_until": None,
        "changed_at": utcnow(),
    }
    updated = conn.execute(
        sa.update(user_password).where(user_password.c.user_id == user_id).values(**values)
    ).rowcount
    if not updated:
        conn.execute(user_password.insert().values(user_id=user_id, **values))
    journal.record(
        conn,
        actor,
        action="user.password_set",
        entity_type="user",
        entity_id=user_id,
        detail={},
        topic="user.password_set",
    )


@dataclass(frozen=True)
class SignIn:
    """The outcome of one attempt: a session (``token`` for the cookie) or why not."""

    user_id: int | None
    token: str | None = None
    refusal: str | None = None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.token is not None


REFUSED = "user name or password is wrong"


def sign_in(
    conn: Connection,
    name: str,
    password: str,
    policy: SignInPolicy,
    *,
    origin: str | None = None,
) -> SignIn:
    """Check ``name``/``password`` and open a session. A refusal is returned, not raised, so
    that the caller commits the failed attempt it records."""
    now = utcnow()
    row = conn.execute(
        sa.select(
            app_user.c.id,
            app_user.c.active,
            user_password.c.password_hash,
            user_password.c.failed_sign_ins,
            user_password.c.locked_until,
        )
        .join(user_password, user_password.c.user_id == app_user.c.id)
        .where(app_user.c.name == name)
    ).first()
    if row is None or not row.active:
        _hasher().verify(password, _dummy_hash())
        return SignIn(None, refusal=REFUSED)
    if row.locked_until is not None and row.locked_until > now:
        return SignIn(row.id, refusal="too many failed attempts", locked_until=row.locked_until)
    valid, rehashed = _hasher().verify_and_update(password, row.password_hash)
    if not valid:
        failure = after_failure(row.failed_sign_ins, now, policy)
        conn.execute(
            sa.update(user_password)
            .where(user_password.c.user_id == row.id)
            .values(failed_sign_ins=failure.failed_sign_ins, locked_until=failure.locked_until)
        )
        if failure.locked_until is not None:
            _log(conn, row.id, origin, "user.locked_out")
            return SignIn(
                row.id, refusal="too many failed attempts", locked_until=failure.locked_until
            )
        return SignIn(row.id, refusal=REFUSED)
    values: dict[str, object] = {"failed_sign_ins": 0, "locked_until": None}
    if rehashed is not None:
        values["password_hash"] = rehashed
    conn.execute(sa.update(user_password).where(user_password.c.user_id == row.id).values(**values))
    # The person's finished sessions go (the sign-in itself stays in the audit log), so the
    # table holds live sessions and the last day's, not every sign-in ever made.
    conn.execute(
        sa.delete(web_session).where(
            web_session.c.user_id == row.id,
            sa.or_(
                web_session.c.ended_at.is_not(None),
                web_session.c.last_seen_at < now - max(policy.lifetime, timedelta(days=1)),
            ),
        )
    )
    token = secrets.token_urlsafe(32)
    conn.execute(
        web_session.insert().values(
            token_hash=_sha256(token),
            user_id=row.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            origin=(origin or "")[:100] or None,
        )
    )
    _log(conn, row.id, origin, "user.signed_in")
    return SignIn(row.id, token=token)


def _log(conn: Connection, user_id: int, origin: str | None, action: str) -> None:
    name = conn.execute(sa.select(app_user.c.name).where(app_user.c.id == user_id)).scalar_one()
    who = Actor(user_id=user_id, name=name, role="", origin=origin)
    journal.record(
        conn, who, action=action, entity_type="user", entity_id=user_id, detail={}, topic=action
    )


@dataclass(frozen=True)
class Session:
    """A live session: who it is, its CSRF token, and whether its last-seen time is due."""

    actor: Actor
    csrf_token: str
    session_id: int
    needs_touch: bool


def open_session(
    conn: Connection, token: str, policy: SignInPolicy, *, origin: str | None = None
) -> Session:
    """The session a cookie stands for: one indexed query. Ended, expired or unknown
    sessions and inactive users are refused alike."""
    now = utcnow()
    rows = conn.execute(
        sa.select(
            web_session.c.id.label("session_id"),
            web_session.c.csrf_token,
            web_session.c.created_at,
            web_session.c.last_seen_at,
            app_user.c.id,
            app_user.c.name,
            app_user.c.role,
            app_user.c.all_sites,
            user_site.c.site_id,
        )
        .join(app_user, app_user.c.id == web_session.c.user_id)
        .outerjoin(user_site, user_site.c.user_id == app_user.c.id)
        .where(
            web_session.c.token_hash == _sha256(token),
            web_session.c.ended_at.is_(None),
            app_user.c.active.is_(True),
        )
    ).all()
    if not rows or session_expired(rows[0].created_at, rows[0].last_seen_at, now, policy):
        raise Unauthorized("please sign in")
    row = rows[0]
    actor = Actor(
        user_id=row.id,
        name=row.name,
        role=row.role,
        all_sites=bool(row.all_sites),
        site_ids=frozenset(r.site_id for r in rows if r.site_id is not None),
        origin=origin,
    )
    return Session(
        actor, row.csrf_token, row.session_id, now - row.last_seen_at > policy.touch_every
    )


def touch_session(conn: Connection, session_id: int) -> None:
    """Move the idle timeout on (done at most once a ``touch_every``, not on every page)."""
    conn.execute(
        sa.update(web_session)
        .where(web_session.c.id == session_id, web_session.c.ended_at.is_(None))
        .values(last_seen_at=utcnow())
    )


def sign_out(conn: Connection, token: str) -> None:
    conn.execute(
        sa.update(web_session)
        .where(web_session.c.token_hash == _sha256(token), web_session.c.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def user_id_by_name(conn: Connection, name: str) -> int:
    found = conn.execute(sa.select(app_user.c.id).where(app_user.c.name == name)).scalar()
    if found is None:
        raise NotFound(f"user {name!r} not found", field="name")
    return int(found)
