"""Configuration from environment variables, with safe defaults for a first run.

=========================== ==================================================================
variable                    meaning (default)
=========================== ==================================================================
KESU_DATABASE_URL           SQLAlchemy URL (a SQLite file ``kesu.db`` in the instance folder)
KESU_SECRET_KEY             session/JWT signing key (generated once into the instance folder)
KESU_UPLOAD_DIR             where evidence files are stored (``uploads`` in the instance folder)
KESU_MAX_UPLOAD_MB          largest accepted upload in MB (50)
KESU_PLUGINS                comma-separated plugin keys to load; unset loads every installed one
KESU_INSTANCE_PATH          the instance folder itself
KESU_SMTP_HOST              SMTP server for e-mail (overdue, assignments, approvals; unset: in-app only)
KESU_SMTP_PORT              its port (25)
KESU_SMTP_USER              login name, if the server wants one (with KESU_SMTP_PASSWORD)
KESU_SMTP_STARTTLS          ``1`` to upgrade the connection with STARTTLS
KESU_MAIL_FROM              the sender address (``kesu@localhost``)
KESU_BASE_URL               the address users open Kesu at, for links in e-mail
KESU_LOGIN_MAX_PER_ACCOUNT  failed sign-ins of one account within the window before 429 (5; 0: off)
KESU_LOGIN_MAX_PER_ADDRESS  failed sign-ins from one client address within the window (20; 0: off)
KESU_LOGIN_WINDOW_SECONDS   the throttle's window in seconds (900)
KESU_HTTPS                  ``1``: Kesu is only reached over HTTPS; cookies always ``Secure``
KESU_PROXY_FIX              number of reverse proxies in front of Kesu whose ``X-Forwarded-For``/
                            ``-Proto``/``-Host``/``-Port`` are trusted (0); cookies are ``Secure`` on
                            every request that came over HTTPS either way
KESU_AUDIT_ANCHOR_FILE      where ``kesu audit anchor`` appends the signed chain head
                            (``audit-anchors.log`` in the instance folder; append-only, 0600)
KESU_AUDIT_KEY              HMAC key of the audit anchors (generated once into the instance folder)
KESU_IDEMPOTENCY_HOURS      how long an API ``Idempotency-Key`` and its first answer are kept (24)
=========================== ==================================================================
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

from flask_appbuilder.security.manager import AUTH_DB
from sqlalchemy.engine import make_url

SECRET_FILE = "secret_key"
SECRET_WAIT_SECONDS = 5


def _read_key(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""


def secret_key(instance: Path) -> str:
    """``KESU_SECRET_KEY``, or a random key generated once and kept in the instance folder.

    Several processes may start at once on a fresh instance folder: the key is written to a
    private temporary file (0600) and hard-linked to its final name, so the first link wins,
    the others read the winner's key, and nobody ever sees a half-written file. Readers still
    wait a little for an empty file, which an older version could leave visible while writing.
    """
    if os.environ.get("KESU_SECRET_KEY"):
        return os.environ["KESU_SECRET_KEY"]
    path = instance / SECRET_FILE
    write_key_once(path)
    deadline = time.monotonic() + SECRET_WAIT_SECONDS
    while not (key := _read_key(path)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} is empty: delete it, or set KESU_SECRET_KEY")
        time.sleep(0.05)
    return key


def write_key_once(path: Path) -> None:
    """Create ``path`` holding a new random key unless it exists. The key is written whole to a
    private temporary file (0600) and hard-linked to its final name: of processes starting
    together the first link wins, and nobody ever reads a half-written key."""
    if path.exists():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
            fh.flush()
            os.fsync(fh.fileno())
        os.link(temp, path)
    except FileExistsError:
        pass  # another process linked its key first: that one is used
    finally:
        temp.unlink(missing_ok=True)


def _private(path: Path) -> None:
    """Take group and other permissions away from ``path`` (if we may)."""
    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            path.chmod(mode & 0o700)
    except (FileNotFoundError, PermissionError):
        pass


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL, or None (another engine, in memory, or a ``file:`` URI)."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite"):
        return None
    name = url.database or ""
    if not name or name == ":memory:" or name.startswith("file:") or url.query.get("uri"):
        return None
    return Path(name)


def secure_storage(config: dict[str, Any], instance: Path) -> None:
    """Keep Kesu's files to its own user: instance and upload folders 0700, the SQLite file 0600.

    The SQLite file is created here (0600) before SQLAlchemy first opens it; SQLite gives its
    ``-wal``, ``-shm`` and ``-journal`` files the database file's permissions. Files of an older
    install are tightened too.
    """
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    _private(instance)
    database = sqlite_path(config["SQLALCHEMY_DATABASE_URI"])
    if database is not None:
        database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
        except OSError:
            pass  # a read-only location: SQLite reports it when it opens the file
        for suffix in ("", "-wal", "-shm", "-journal"):
            _private(database.with_name(database.name + suffix))
    uploads = Path(config["KESU_UPLOAD_DIR"])
    try:
        uploads.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return
    _private(uploads)


def engine_options(database_url: str) -> dict[str, Any]:
    """Engine options for the database in use (SQLite: a lock wait; others: liveness checks)."""
    if database_url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True}


def build_config(instance: Path) -> dict[str, Any]:
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    database = os.environ.get("KESU_DATABASE_URL") or f"sqlite:///{instance / 'kesu.db'}"
    return {
        "SECRET_KEY": secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": database,
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "KESU_UPLOAD_DIR": os.environ.get("KESU_UPLOAD_DIR") or str(instance / "uploads"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("KESU_MAX_UPLOAD_MB", "50")) * 1024 * 1024,
        "KESU_PLUGINS": os.environ.get("KESU_PLUGINS"),
        "KESU_SMTP_HOST": os.environ.get("KESU_SMTP_HOST") or None,
        "KESU_SMTP_PORT": int(os.environ.get("KESU_SMTP_PORT") or 25),
        "KESU_SMTP_USER": os.environ.get("KESU_SMTP_USER") or None,
        "KESU_SMTP_PASSWORD": os.environ.get("KESU_SMTP_PASSWORD") or None,
        "KESU_SMTP_STARTTLS": os.environ.get("KESU_SMTP_STARTTLS", "") in ("1", "true", "yes"),
        "KESU_MAIL_FROM": os.environ.get("KESU_MAIL_FROM") or "kesu@localhost",
        # How long an API request's Idempotency-Key and first answer are kept (core.api.idempotency).
        "KESU_IDEMPOTENCY_HOURS": float(os.environ.get("KESU_IDEMPOTENCY_HOURS") or 24),
        "KESU_BASE_URL": (os.environ.get("KESU_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "KESU_AUDIT_ANCHOR_FILE": os.environ.get("KESU_AUDIT_ANCHOR_FILE")
        or str(instance / "audit-anchors.log"),
        "KESU_AUDIT_KEY": os.environ.get("KESU_AUDIT_KEY") or None,
        "KESU_LOGIN_MAX_PER_ACCOUNT": int(os.environ.get("KESU_LOGIN_MAX_PER_ACCOUNT") or 5),
        "KESU_LOGIN_MAX_PER_ADDRESS": int(os.environ.get("KESU_LOGIN_MAX_PER_ADDRESS") or 20),
        "KESU_LOGIN_WINDOW_SECONDS": int(os.environ.get("KESU_LOGIN_WINDOW_SECONDS") or 900),
        "KESU_HTTPS": os.environ.get("KESU_HTTPS", "") in ("1", "true", "yes"),
        "KESU_PROXY_FIX": int(os.environ.get("KESU_PROXY_FIX") or 0),
        # Flask-AppBuilder
        "APP_NAME": "客诉 Kesu",
        "AUTH_TYPE": AUTH_DB,
        "AUTH_ROLE_ADMIN": "Admin",
        "AUTH_ROLE_PUBLIC": "Public",
        "FAB_SECURITY_MANAGER_CLASS": "core.security.KesuSecurityManager",
        "ADDON_MANAGERS": ["core.addon.KesuManager"],
        "FAB_INDEX_VIEW": "core.views.admin.KesuIndexView",
        "FAB_BASE_TEMPLATE": "kesu/layout.html",
        # The schema and the permissions are prepared by `kesu init`, never at request time.
        "FAB_UPDATE_PERMS": False,
        "FAB_CREATE_DB": False,
        # FAB's user/role APIs crash on bad input; the login API stays.
        "FAB_ADD_SECURITY_API": False,
        # Permissions are written from code by `kesu init` (core/roles.py): no screens list
        # Flask-AppBuilder's raw permission and view names.
        "FAB_ADD_SECURITY_PERMISSION_VIEW": False,
        "FAB_ADD_SECURITY_VIEW_MENU_VIEW": False,
        "FAB_ADD_SECURITY_PERMISSION_VIEWS_VIEW": False,
        "FAB_API_SWAGGER_UI": True,
        # The JSON menu (/api/v1/menu/) is for single-page front ends; Kesu renders its menu on
        # the server, and the route answered outside its own OpenAPI description.
        "FAB_ADD_MENU_API": False,
        "FAB_API_MAX_PAGE_SIZE": 100,
        "FAB_PASSWORD_COMPLEXITY_ENABLED": False,
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "LANGUAGES": {
            "zh_CN": {"flag": "cn", "name": "简体中文"},
            "en": {"flag": "gb", "name": "English"},
        },
        "JWT_ACCESS_TOKEN_EXPIRES": 8 * 3600,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
    }
