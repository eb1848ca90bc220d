"""Sign-in protection: throttling, equal work for every failure, and retiring old sessions.

**Throttling.** Every sign-in attempt (the ``/login/`` form and ``/api/v1/security/login``)
is a row of ``login_attempt``, so every worker process of an installation counts the same
failures. An attempt is refused with 429 and ``Retry-After`` while, within the last
``KESU_LOGIN_WINDOW_SECONDS`` (900), the account has ``KESU_LOGIN_MAX_PER_ACCOUNT`` (5) failures
or the client's address has ``KESU_LOGIN_MAX_PER_ADDRESS`` (20); 0 switches a limit off. The
attempt is written (``pending``) before the password is checked and counted by the attempts
after it, so parallel guesses cannot slip past the limit together. A successful sign-in clears
the account's failures for the account's limit only: they still count against the addresses
they came from. Refused attempts are not counted (a locked account unlocks on time).

**Equal work.** An unknown name, an inactive account and a wrong password take the same path:
one user lookup by name and one by e-mail, one password-hash check (a dummy hash made with the
installation's method when there is no usable stored hash), the same writes, the same answer.

**Auth epoch.** ``ab_user.auth_epoch`` moves on when the password changes, the account is
deactivated, or the user signs out. Sessions (``_kesu_epoch`` in the Flask session) and JWTs (the
``kesu_epoch`` claim) carry the value they were issued under and are refused once it moved on.
Signing out thus ends the user's every session and token.

**Cookies.** The session cookie is ``HttpOnly`` and ``SameSite=Lax`` always, and ``Secure`` on
every request that arrived over HTTPS (with ``KESU_PROXY_FIX=<number of proxies>``, as told by
the proxy's ``X-Forwarded-Proto``) or on every request with ``KESU_HTTPS=1``.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets

import sqlalchemy as sa
from flask import Flask, current_app, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import user_logged_in
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.security import check_password_hash

from core import limits
from core.db import utcnow, write_transaction
from core.extensions import db
from core.models import KesuUser, LoginAttempt
from core.passwords import hash_password

EPOCH_SESSION_KEY = "_kesu_epoch"
EPOCH_CLAIM = "kesu_epoch"
FAILING = ("pending", "failed")


class LoginThrottled(Exception):
    """Too many failed sign-ins for the account or the address; retry after ``retry_after`` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def _setting(name: str) -> int:
    return int(current_app.config[name])  # core/config.py gives every KESU_LOGIN_* its default


def client_address() -> str:
    """The client's address (the proxy's ``X-Forwarded-For`` with ``KESU_PROXY_FIX``)."""
    return (request.remote_addr or "unknown")[:64]


def _usable(text, limit: int) -> str | None:
    """``text`` if a database and a hash function can take it, else None (never an error)."""
    if not isinstance(text, str) or not text or len(text) > limit or "\x00" in text:
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return None
    return text


def _dummy_hash() -> str:
    """A hash of a random password made with the installation's method (made once per app)."""
    method = current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt")
    cache = current_app.extensions.setdefault("kesu_dummy_hash", {})
    if method not in cache:
        cache[method] = hash_password(secrets.token_hex(16))
    return cache[method]


def _wait(cond, limit: int, own_id: int, since: dt.datetime) -> int:
    """Seconds until fewer than ``limit`` failures matching ``cond`` remain in the window."""
    if limit <= 0:
        return 0
    times = db.session.scalars(
        sa.select(LoginAttempt.at)
        .where(cond, LoginAttempt.outcome.in_(FAILING), LoginAttempt.at >= since)
        .where(LoginAttempt.id != own_id)
        .order_by(LoginAttempt.at.desc())
        .limit(limit)
    ).all()
    if len(times) < limit:
        return 0
    return max(1, math.ceil((times[-1] - since).total_seconds()))


def _open_attempt(account: str, address: str) -> int:
    """Record the attempt, then refuse it (:class:`LoginThrottled`) if a limit is reached."""
    now = utcnow()
    since = now - dt.timedelta(seconds=_setting("KESU_LOGIN_WINDOW_SECONDS"))
    with write_transaction() as s:
        s.execute(sa.delete(LoginAttempt).where(LoginAttempt.at < since))
        row = LoginAttempt(at=now, account=account, address=address, outcome="pending")
        s.add(row)
        s.flush()
        attempt_id = row.id
    # Counted after our own row is committed: of two parallel attempts, the later one to
    # count sees the other.
    wait = max(
        _wait(
            sa.and_(LoginAttempt.account == account, LoginAttempt.account_cleared.is_(False)),
            _setting("KESU_LOGIN_MAX_PER_ACCOUNT"),
            attempt_id,
            since,
        ),
        _wait(
            LoginAttempt.address == address,
            _setting("KESU_LOGIN_MAX_PER_ADDRESS"),
            attempt_id,
            since,
        ),
    )
    if wait:
        with write_transaction() as s:
            s.execute(sa.delete(LoginAttempt).where(LoginAttempt.id == attempt_id))
        raise LoginThrottled(wait)
    return attempt_id


def _close_attempt(attempt_id: int, account: str, user, ok: bool) -> None:
    with write_transaction() as s:
        s.execute(
            sa.update(LoginAttempt)
            .where(LoginAttempt.id == attempt_id)
            .values(outcome="ok" if ok else "failed")
        )
        if ok:
            s.execute(
                sa.update(LoginAttempt)
                .where(LoginAttempt.account == account)
                .values(account_cleared=True)
            )
            user.login_count = (user.login_count or 0) + 1
            user.last_login = dt.datetime.now()  # Flask-AppBuilder's convention (local, naive)
            user.fail_login_count = 0
        else:
            # The same statement whether the name is known or not (no row matches id 0).
            s.execute(
                sa.update(KesuUser)
                .where(KesuUser.id == (user.id if user is not None else 0))
                .values(fail_login_count=sa.func.coalesce(KesuUser.fail_login_count, 0) + 1)
                .execution_options(synchronize_session=False)
            )


def authenticate(sm, username, password):
    """The active user with this name (or e-mail) and password, else None.

    Raises :class:`LoginThrottled` when a limit is reached (before the password is checked).
    """
    name = _usable(username, limits.USERNAME)
    secret = _usable(password, limits.PASSWORD)
    user = None
    if name is not None:
        user = sm.find_user(username=name)
        by_email = sm.find_user(email=name)  # looked up either way: the same work
        if user is None:
            user = by_email
    account = f"u:{user.id}" if user is not None else "n:" + (name or "").casefold()[:290]
    attempt_id = _open_attempt(account, client_address())
    usable = user is not None and user.is_active and bool(user.password)
    stored = user.password if usable else _dummy_hash()
    try:
        matches = check_password_hash(stored, secret or "\x01")
    except ValueError:  # a stored hash of a method this installation cannot check
        matches = False
    ok = matches and usable and secret is not None
    _close_attempt(attempt_id, account, user, ok)
    return user if ok else None


# -- the auth epoch -------------------------------------------------------------------------------


def _bump(target: KesuUser) -> None:
    target.auth_epoch = (target.auth_epoch or 0) + 1


@sa.event.listens_for(KesuUser.password, "set", active_history=True, propagate=True)
def _password_set(target, value, oldvalue, _initiator):
    if sa.inspect(target).has_identity and value != oldvalue:
        _bump(target)


@sa.event.listens_for(KesuUser.active, "set", active_history=True, propagate=True)
def _active_set(target, value, oldvalue, _initiator):
    if sa.inspect(target).has_identity and oldvalue is True and not value:
        _bump(target)


def end_all_sessions(user_id: int) -> None:
    """Retire every session and token of the user (on signing out)."""
    with write_transaction() as s:
        s.execute(
            sa.update(KesuUser)
            .where(KesuUser.id == user_id)
            .values(auth_epoch=KesuUser.auth_epoch + 1)
        )


def stamp_session(user: KesuUser) -> None:
    """Mark the session with the user's current epoch (at sign-in, after an own password
    change)."""
    session[EPOCH_SESSION_KEY] = user.auth_epoch


def session_is_current(user: KesuUser) -> bool:
    return session.get(EPOCH_SESSION_KEY) == user.auth_epoch


def jwt_claims(identity) -> dict:
    """Extra claims of every token issued for ``identity`` (a user id)."""
    try:
        user = db.session.get(KesuUser, int(identity))
    except (TypeError, ValueError):
        user = None
    return {EPOCH_CLAIM: user.auth_epoch} if user is not None else {}


def token_is_current(user: KesuUser, jwt_data: dict) -> bool:
    return jwt_data.get(EPOCH_CLAIM) == user.auth_epoch


def _on_login(_app, user=None, **_kw) -> None:
    if user is not None:
        stamp_session(user)


# -- cookies --------------------------------------------------------------------------------------


class KesuSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session; ``Secure`` whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        if app.config.get("SESSION_COOKIE_SECURE"):
            return True
        return has_request_context() and request.is_secure


def install(app: Flask) -> None:
    """Cookie flags, the proxy fix and the sign-in hook for ``app``."""
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    if app.config.get("KESU_HTTPS"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.session_interface = KesuSessionInterface()
    proxies = int(app.config.get("KESU_PROXY_FIX") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
    user_logged_in.connect(_on_login, app, weak=False)
