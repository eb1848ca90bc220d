"""Fixtures: an initialised database per test, a user per role, API and browser helpers.

The schema is migrated and seeded once per session into a template SQLite file; each test
gets its own copy, so tests are independent and fast.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.app import create_app
from core.extensions import db
from core.models import Case, CaseDeadline

TESTS_DIR = Path(__file__).resolve().parent
THIRD_PARTY_DIR = TESTS_DIR / "plugins"
PASSWORD = "correct-horse-42"
SECRET = "test-secret-key-not-for-production"

# username -> (role, business lines)
USERS = {
    "admin": ("Admin", []),
    "agent": ("CS Agent", ["L1"]),
    "supervisor": ("CS Supervisor", ["L1"]),
    "qa": ("QA", ["L1"]),
    "dept": ("Responsible Dept", ["L1"]),
    "sales": ("Sales", ["L1"]),
    "manager": ("Manager", ["L1"]),
    "finance": ("Finance", ["L1"]),
    "auditor": ("Auditor", ["L1"]),
    "agent2": ("CS Agent", ["L2"]),
    "supervisor2": ("CS Supervisor", ["L2"]),
    "rsm": ("Manager", ["L1"]),
    "salesgm": ("Manager", ["L1"]),
    "director": ("Manager", ["L1"]),
    "gm": ("Manager", ["L1"]),
    "boss": ("Manager", ["L1"]),
    "warehouse": ("Warehouse", ["L1"]),  # a role the policy_returns plugin declares
}
# username -> (line, approval position)
POSITIONS = [
    ("supervisor", "L1", "cs_supervisor"),
    ("supervisor2", "L2", "cs_supervisor"),
    ("rsm", "L1", "regional_sales_manager"),
    ("salesgm", "L1", "sales_gm"),
    ("director", "L1", "marketing_director"),
    ("gm", "L1", "general_manager"),
    ("boss", "L1", "leadership"),
]
CORE_PLUGINS = [
    "logistics",
    "product_quality",
    "policy_returns",
    "terminal_consumer",
    "major_incident",
]


def _seed() -> None:
    from core.models import Customer, Department, Product
    from core.services import lines, positions, records
    from core.services.access import SYSTEM
    from core.services.setup import create_user, init_database

    init_database()
    lines.create_line(SYSTEM, code="L1", name="华彩涂料", plugins=CORE_PLUGINS)
    lines.create_line(SYSTEM, code="L2", name="清泉饮料", plugins=["logistics"])
    for code, name in (("QA", "品保课"), ("WH", "仓储部")):
        records.save(SYSTEM, Department(code=code, name=name), "department")
    l1 = lines.get_line("L1")
    l2 = lines.get_line("L2")
    records.save(
        SYSTEM,
        Customer(
            business_line_id=l1.id,
            name="上海经销商",
            kind="dealer",
            contact="张三",
            phone="13812345678",
            email="zhangsan@example.com",
            address="上海",
        ),
        "customer",
    )
    records.save(
        SYSTEM,
        Customer(business_line_id=l2.id, name="成都经销商", kind="dealer", phone="13900001111"),
        "customer",
    )
    records.save(
        SYSTEM, Product(business_line_id=l1.id, code="P-100", name="外墙乳胶漆"), "product"
    )
    records.save(SYSTEM, Product(business_line_id=l2.id, code="B-200", name="矿泉水"), "product")
    for username, (role, user_lines) in USERS.items():
        create_user(
            SYSTEM,
            username=username,
            password=PASSWORD,
            roles=[role],
            lines=user_lines,
            department="QA" if role in ("QA", "Responsible Dept") else None,
        )
    for username, line, position in POSITIONS:
        positions.grant(SYSTEM, username, line, position)


def _config(instance: Path, database: Path) -> dict:
    return {
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        "SECRET_KEY": SECRET,
        "KESU_UPLOAD_DIR": str(instance / "uploads"),
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }


def _checkpoint(database: Path) -> None:
    con = sqlite3.connect(database)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("template")
    database = base / "kesu.db"
    app = create_app(_config(base, database))
    with app.app_context():
        _seed()
        db.session.remove()
        db.engine.dispose()
    _checkpoint(database)
    return database


def make_app(tmp_path: Path, template: Path, **overrides):
    instance = tmp_path / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    database = instance / "kesu.db"
    if not database.exists():
        shutil.copyfile(template, database)
    return create_app({**_config(instance, database), **overrides})


# PostgreSQL is the production engine: with KESU_TEST_POSTGRES_URL set (".ci/run" sets it), every
# test using the ``app`` fixture runs on SQLite and on PostgreSQL.
POSTGRES_URL = os.environ.get("KESU_TEST_POSTGRES_URL")
ENGINES = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]
if os.environ.get("CI") and not POSTGRES_URL:
    raise RuntimeError("CI runs the suite on PostgreSQL too: set KESU_TEST_POSTGRES_URL")


def _pg_admin(sql: str) -> None:
    import psycopg2

    con = psycopg2.connect(POSTGRES_URL.replace("postgresql+psycopg2://", "postgresql://"))
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(sql)
    con.close()


def _pg_url(name: str) -> str:
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def pg_template(tmp_path_factory) -> str:
    """A migrated and seeded PostgreSQL database, copied (CREATE DATABASE ... TEMPLATE) per test."""
    name = f"kesu_tpl_{uuid.uuid4().hex[:10]}"
    _pg_admin(f"CREATE DATABASE {name}")
    base = tmp_path_factory.mktemp("pg-template")
    app = create_app(
        {**_config(base, base / "unused.db"), "SQLALCHEMY_DATABASE_URI": _pg_url(name)}
    )
    with app.app_context():
        _seed()
        db.session.remove()
        db.engine.dispose()
    yield name
    _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=ENGINES)
def app(request, tmp_path, template_db) -> Iterator:
    if request.param == "sqlite":
        application = make_app(tmp_path, template_db)
    else:
        template = request.getfixturevalue("pg_template")
        name = f"kesu_t_{uuid.uuid4().hex[:10]}"
        _pg_admin(f"CREATE DATABASE {name} TEMPLATE {template}")
        request.addfinalizer(lambda: _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        application = make_app(tmp_path, template_db, SQLALCHEMY_DATABASE_URI=_pg_url(name))
    yield application
    with application.app_context():
        db.session.remove()
        drifted = stale_next_deadlines()
        db.session.remove()
        db.engine.dispose()
    assert not drifted, (
        f"cases whose kept next deadline is not their soonest running one: {drifted}"
    )


def keep_next_deadlines() -> None:
    """After a test wrote deadline rows straight into the table (set-up, not the system under
    test): put each case's soonest running deadline on its row, as the service would."""
    soonest = (
        sa.select(CaseDeadline.due_at, CaseDeadline.name)
        .where(CaseDeadline.case_id == Case.id, CaseDeadline.state == "running")
        .order_by(CaseDeadline.due_at, CaseDeadline.name)
        .limit(1)
    )
    db.session.execute(
        sa.update(Case).values(
            next_due_at=soonest.with_only_columns(CaseDeadline.due_at).scalar_subquery(),
            next_due_name=soonest.with_only_columns(CaseDeadline.name).scalar_subquery(),
        )
    )


def stale_next_deadlines() -> list[int]:
    """Cases whose ``next_due_at`` is not the soonest running deadline of their rows: checked
    after every test, so that no path that moves a deadline forgets the case row."""
    soonest = (
        sa.select(sa.func.min(CaseDeadline.due_at))
        .where(CaseDeadline.case_id == Case.id, CaseDeadline.state == "running")
        .scalar_subquery()
    )
    stmt = sa.select(Case.id).where(~Case.next_due_at.is_not_distinct_from(soonest))
    return list(db.session.scalars(stmt.order_by(Case.id).limit(20)))


@pytest.fixture(params=ENGINES)
def served_db(request, tmp_path, template_db) -> tuple[Path, str]:
    """A fresh seeded database for ``tests/procserver.py`` servers: (instance folder, URL)."""
    instance = tmp_path / "served"
    instance.mkdir()
    if request.param == "sqlite":
        database = instance / "kesu.db"
        shutil.copyfile(template_db, database)
        return instance, f"sqlite:///{database}"
    template = request.getfixturevalue("pg_template")
    name = f"kesu_s_{uuid.uuid4().hex[:10]}"
    _pg_admin(f"CREATE DATABASE {name} TEMPLATE {template}")
    request.addfinalizer(lambda: _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    return instance, _pg_url(name)


def login(client, username: str):
    """Sign ``client`` in on the login form as ``username`` (signing out whoever was in)."""
    client.get("/logout/")
    resp = client.post("/login/", data={"username": username, "password": PASSWORD})
    assert resp.status_code == 302
    return client


def signed_in(app, username: str):
    """A new test client of ``app``, signed in on the login form as ``username``."""
    client = app.test_client()
    resp = client.post("/login/", data={"username": username, "password": PASSWORD})
    assert resp.status_code == 302
    return client


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Api:
    """Calls the REST API as a given user (a real JWT from /api/v1/security/login)."""

    _tokens: dict[str, str] = {}

    def __init__(self, client, username: str):
        self.client = client
        self.username = username

    @property
    def headers(self) -> dict[str, str]:
        token = Api._tokens.get(self.username)
        if token is None:
            resp = self.client.post(
                "/api/v1/security/login",
                json={"username": self.username, "password": PASSWORD, "provider": "db"},
            )
            assert resp.status_code == 200, resp.get_json()
            token = Api._tokens[self.username] = resp.get_json()["access_token"]
        return {"Authorization": f"Bearer {token}"}

    def get(self, url, **kw):
        return self.client.get(url, headers=self.headers, **kw)

    def post(self, url, **kw):
        return self.client.post(url, headers=self.headers, **kw)

    def put(self, url, **kw):
        return self.client.put(url, headers=self.headers, **kw)

    def create_case(self, **overrides):
        body = case_body(**overrides)
        resp = self.post("/api/v1/case/", json=body)
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()["result"]

    def action(self, case_id: int, name: str, **payload):
        return self.post(f"/api/v1/case/{case_id}/action/{name}", json=payload)


def case_body(**overrides) -> dict:
    body = {
        "business_line": "L1",
        "category": "logistics",
        "channel": "phone",
        "customer": {"name": "上海经销商", "kind": "dealer"},
        "product": "P-100",
        "batch_no": "B20261101",
        "quantity_purchased": 100,
        "description": "到货外箱破损，3 桶漏液",
        "demand": "compensation",
    }
    body.update(overrides)
    if body.get("category") == "logistics" and "details" not in overrides:
        body["details"] = {"problem": "delay"}  # the category's one required field
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def api(client):
    """``api("agent").post(...)``: the API as that user."""
    return lambda username: Api(client, username)


@pytest.fixture
def third_party_plugin(monkeypatch):
    """Install the example service-complaint plugin the way an outside package is installed:
    a distribution with a ``kesu.plugins`` entry point on the import path."""
    monkeypatch.syspath_prepend(str(THIRD_PARTY_DIR))
    yield "service_complaint"


@pytest.fixture(autouse=True)
def _no_stray_env(monkeypatch):
    for name in ("KESU_DATABASE_URL", "KESU_PLUGINS", "KESU_SECRET_KEY", "KESU_INSTANCE_PATH"):
        monkeypatch.delenv(name, raising=False)


def make_plugin(key: str, *, category: bool = True, **hooks):
    """A throwaway plugin object: a descriptor plus the given hook functions."""
    from core import hookimpl
    from core.contracts import PluginDescriptor

    descriptor = PluginDescriptor(
        key=key, name_zh=key, name_en=key, version="0.0.1", category=category
    )
    namespace = {"kesu_plugin_descriptor": hookimpl(lambda: descriptor)}
    for name, function in hooks.items():
        namespace[name] = hookimpl(function)
    return type(f"Plugin_{key}", (), {k: staticmethod(v) for k, v in namespace.items()})()


@pytest.fixture
def temp_plugin(app):
    """Register a throwaway plugin on the running app and enable it on business lines."""
    from core.services import lines
    from core.services.access import SYSTEM

    registry = app.extensions["kesu_plugins"]
    added = []

    def install(plugin, on_lines=("L1",)):
        key = plugin.kesu_plugin_descriptor().key
        registry.register(plugin, key)
        added.append(key)
        with app.app_context():
            for code in on_lines:
                lines.enable_plugin(SYSTEM, code, key)
        return key

    yield install
    for key in added:
        registry.pm.unregister(name=key)


# -- browser tests: the real app on a local port, driven by headless Chromium ---------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on loopback that keeps what it receives."""
    import socket

    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            self.messages.append(envelope)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(KESU_SMTP_HOST="127.0.0.1", KESU_SMTP_PORT=port)
    yield inbox
    controller.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_app(tmp_path, template_db):
    application = make_app(tmp_path, template_db, WTF_CSRF_ENABLED=True)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def live_server(live_app):
    """The app served over HTTP on a free local port, with CSRF protection on."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def watch_csp(page, sink: list[str]) -> None:
    """Append every Content-Security-Policy violation on ``page`` to ``sink``, from the DOM's
    ``securitypolicyviolation`` event (not from the browser's console wording)."""
    name = f"__kesuCspViolation{id(sink)}"  # one binding per sink: a page may have several
    page.expose_function(name, lambda text: sink.append(text))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e =>"
        f" window.{name}(e.violatedDirective + ' ' + (e.blockedURI || 'inline')))"
    )


class Screen:
    """A signed-in browser page; ``requests`` records every URL the page asked for."""

    def __init__(self, page, base: str):
        self.page = page
        self.base = base
        self.requests: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        # Every browser test fails on a Content-Security-Policy violation (core/headers.py)
        # unless it provokes them on purpose and says so.
        self.csp_violations: list[str] = []
        self.allow_csp_violations = False
        watch_csp(page, self.csp_violations)

    def goto(self, path: str):
        response = self.page.goto(self.base + path)
        assert response is not None and response.status < 400, (path, response and response.status)
        return response

    def login(self, username: str, locale: str | None = None):
        self.goto("/login/")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.click("input[type=submit], button[type=submit]")
        self.page.wait_for_load_state()
        if locale:
            self.goto(f"/lang/{locale}")
        return self


@pytest.fixture
def screen(browser, live_server):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    screen = Screen(page, live_server)
    yield screen
    context.close()
    assert screen.allow_csp_violations or screen.csp_violations == [], screen.csp_violations
