"""The application factory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_appbuilder import AppBuilder
from flask_wtf.csrf import CSRFProtect

from core.config import build_config, engine_options, secure_storage
from core.db import configure_engine
from core.extensions import db, migrate
from core.inputs import install_input_guards
from core.plugins import PluginRegistry
from core.roles import role_config
from core.workflow import action_roles

CORE_DIR = Path(__file__).resolve().parent
MIGRATIONS_DIR = CORE_DIR / "migrations"
TRANSLATIONS_DIR = CORE_DIR / "translations"
ADDON = "core.addon.KesuManager"
csrf = CSRFProtect()


@migrate.configure
def _version_locations(config):
    """The core's revisions and those of every loaded plugin (one Alembic branch each)."""
    dirs = [str(MIGRATIONS_DIR / "versions")]
    for result in current_app.extensions["kesu_plugins"].call_all("kesu_migrations_dirs"):
        dirs.extend(result or ())
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(dirs))
    return config


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: config, then plugins, then the database, then Flask-AppBuilder.

    Plugins load first because Flask-AppBuilder reads the roles (``FAB_ROLES``) and Babel's
    translation directories while it initialises, and swallows errors raised by add-ons.
    """
    test_config = dict(test_config or {})
    instance = test_config.pop("INSTANCE_PATH", None) or os.environ.get("KESU_INSTANCE_PATH")
    app = Flask("core", instance_path=str(Path(instance).resolve()) if instance else None)
    app.config.update(build_config(Path(app.instance_path)))
    app.config.update(test_config)
    secure_storage(app.config, Path(app.instance_path))
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    )

    only = app.config.get("KESU_PLUGINS")
    if isinstance(only, str):
        only = [p.strip() for p in only.split(",") if p.strip()]
    registry = PluginRegistry(only)
    app.extensions["kesu_plugins"] = registry
    app.config["FAB_ROLES"] = role_config(action_roles(), registry.call_all("kesu_roles"))
    plugin_dirs = [d for dirs in registry.call_all("kesu_translation_dirs") for d in (dirs or ())]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join([str(TRANSLATIONS_DIR), *plugin_dirs])

    # CSRF protection for every form; Flask-AppBuilder exempts its JWT APIs as it registers them.
    csrf.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    with app.app_context():
        configure_engine(db.engine)
        appbuilder = AppBuilder(update_perms=False)
        appbuilder.init_app(app, db.session)
        if ADDON not in appbuilder.addon_managers:
            raise RuntimeError(f"{ADDON} failed to register its views; see the log above")

    from core.auth_guard import install as install_auth_guard
    from core.cli import register_commands
    from core.headers import install_security_headers
    from core.web import install_web_handlers

    app.json.ensure_ascii = False  # Chinese text as UTF-8, not \uXXXX escapes
    install_web_handlers(app)
    install_input_guards(app)
    install_auth_guard(app)
    install_security_headers(app)
    register_commands(app)
    return app
