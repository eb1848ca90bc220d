"""Configuration from environment variables, with safe defaults for a first run.

===================== ==================================================================
variable              meaning (default)
===================== ==================================================================
KESU_DATABASE_URL     SQLAlchemy URL (a SQLite file ``kesu.db`` in the instance folder)
KESU_SECRET_KEY       session/JWT signing key (generated once into the instance folder)
KESU_UPLOAD_DIR       where evidence files are stored (``uploads`` in the instance folder)
KESU_MAX_UPLOAD_MB    largest accepted upload in MB (50)
KESU_PLUGINS          comma-separated plugin keys to load; unset loads every installed one
KESU_INSTANCE_PATH    the instance folder itself
KESU_SMTP_HOST        SMTP server for overdue e-mail (unset: in-app notifications only)
KESU_SMTP_PORT        its port (25)
KESU_SMTP_USER        login name, if the server wants one (with KESU_SMTP_PASSWORD)
KESU_SMTP_STARTTLS    ``1`` to upgrade the connection with STARTTLS
KESU_MAIL_FROM        the sender address (``kesu@localhost``)
KESU_BASE_URL         the address users open Kesu at, for links in e-mail
===================== ==================================================================
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask_appbuilder.security.manager import AUTH_DB

SECRET_FILE = "secret_key"


def secret_key(instance: Path) -> str:
    """``KESU_SECRET_KEY``, or a random key generated once and kept in the instance folder."""
    if os.environ.get("KESU_SECRET_KEY"):
        return os.environ["KESU_SECRET_KEY"]
    path = instance / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def engine_options(database_url: str) -> dict[str, Any]:
    """Engine options for the database in use (SQLite: a lock wait; others: liveness checks)."""
    if database_url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True}


def build_config(instance: Path) -> dict[str, Any]:
    instance.mkdir(parents=True, exist_ok=True)
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
        "FAB_API_SWAGGER_UI": True,
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
