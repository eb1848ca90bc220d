"""Every screen in Chinese: each role of the test seed visits every screen it can reach in zh_CN.

Cases of every category go through the product (intake, workflow actions, plugin panels, an
upload, a finance export), then one user per role follows every same-site link from the home
page, the account page, the admin screens and an unknown page (per record kind one show and
edit page; every case page). The text a person sees (text, button captions, placeholders and
tooltips; not ``<option value>``, hidden inputs, scripts or the auditors' integrity details)
must hold no English word, raw code (status, category, plugin or setting key) and no
``None``/``True``/``False``. Latin letters may appear only in the product's names and units
below, in what users typed (the free-text columns of tests/test_xss_browser.py) and in
e-mail addresses and time zone names.

The Flask test client renders the same HTML Chromium would show, much faster.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa

from core.app import create_app
from core.demo import DEMO_PASSWORD
from tests.conftest import PASSWORD, USERS, Api, login
from tests.test_evidence import PNG, upload
from tests.test_xss_browser import FREE_TEXT, _ok

# Latin words a Chinese screen may show: product names, file formats, units, the settings'
# duration units (m, h, bm, bh, wd), the case number prefix and language names in the menu.
ALLOWED = {
    "Kesu",
    "Excel",
    "PDF",
    "CSV",
    "SKU",
    "ERP",
    "CNY",
    "KB",
    "MB",
    "SHA",
    "KS",
    "English",
    "IANA",
    "bm",
    "bh",
    "wd",
}
# Not screens: signing out, switching language, files, exports, JSON.
SKIP = re.compile(r"^/(logout|lang|static|api)/|\.xlsx$|/export|/download|/evidence/|/file")
SKIP_TAGS = {"script", "style", "template", "noscript"}
LATIN = re.compile(r"[A-Za-z]{2,}")
VISIBLE_ATTRIBUTES = ("title", "placeholder", "alt", "aria-label")
TEXT = "测试文本"
# One user per role (the first USERS names), as tests/test_authz_matrix.py picks them.
ROLE_USERS: dict[str, str] = {}
for _username, (_role, _lines) in USERS.items():
    ROLE_USERS.setdefault(_role, _username)


class Visible(HTMLParser):
    """The text a person sees on a page, and the page's links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._open: list[tuple[str, bool]] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if not self._hidden:
            self.texts += [a[k] for k in VISIBLE_ATTRIBUTES if a.get(k)]
            if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
                self.texts.append(a["value"])
        if tag in ("input", "img", "br", "hr", "meta", "link", "col", "source"):
            return
        hidden = tag in SKIP_TAGS or "kesu-integrity" in a.get("class", "").split()
        self._open.append((tag, hidden))
        self._hidden += hidden

    def handle_endtag(self, tag):
        if not any(t == tag for t, _ in self._open):
            return
        while self._open:
            open_tag, hidden = self._open.pop()
            self._hidden -= hidden
            if open_tag == tag:
                break

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.texts.append(data.strip())
        elif "new AdminFilters(" in data:
            self.texts += filter_texts(data)


def filter_texts(script: str) -> list[str]:
    """What Flask-AppBuilder's search filters offer: its script passes the column names, each
    column's input (HTML: the options of a pick list) and the operators as JSON lines."""
    out: list[str] = []
    for line in script.splitlines():
        line = line.strip().rstrip(",")
        if not line.startswith("{"):
            continue
        for value in json.loads(line).values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str):
                    out += visible(item).texts if "<" in item else [item]
    return out


def visible(html: str) -> Visible:
    parser = Visible()
    parser.feed(html)
    parser.close()
    return parser


def typed_words(app) -> set[str]:
    """Latin words users typed (every free-text column), e-mail addresses and zone names."""
    from core.extensions import db

    words: set[str] = set()
    with app.app_context():
        engine = db.engine
        inspector = sa.inspect(engine)
        for table, columns in FREE_TEXT.items():
            # calendar notes come in English from the chinese-calendar package: not typed
            if table == "calendar_day" or not inspector.has_table(table):
                continue
            for column in columns:
                with engine.connect() as conn:
                    for (value,) in conn.execute(sa.text(f"SELECT {column} FROM {table}")):
                        words |= set(LATIN.findall(str(value or "")))
        with engine.connect() as conn:
            for (zone,) in conn.execute(sa.text("SELECT timezone FROM business_line")):
                words |= set(LATIN.findall(zone))
        db.session.remove()
    return words


def english_in(texts: list[str], allowed: set[str]) -> list[str]:
    found = []
    for text in texts:
        text = re.sub(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", "", text)  # e-mail addresses
        bad = [w for w in LATIN.findall(text) if w not in allowed]
        if bad:
            found.append(f"{' '.join(bad)}  «{text[:80]}»")
    return found


def details_of(specs) -> dict:
    """A valid value for every category field (Chinese text for text fields)."""
    out = {}
    for spec in specs:
        if spec.type in ("string", "text"):
            out[spec.name] = TEXT
        elif spec.type == "choice":
            out[spec.name] = spec.choices[0][0]
        elif spec.type == "integer":
            out[spec.name] = max(spec.min_value or 0, 4)
        elif spec.type == "decimal":
            out[spec.name] = "100.00"
        elif spec.type == "boolean":
            out[spec.name] = False
        elif spec.type == "date":
            out[spec.name] = "2026-11-01"
        elif spec.type == "datetime":
            out[spec.name] = "2026-11-01T10:00:00"
    return out


def fill(app) -> list[int]:
    """A case of every category on L1 with history; a major incident; a finance export."""
    from core.extensions import db
    from core.services import cases as case_service
    from core.services.lines import get_line, line_facts, registry

    with app.app_context():
        line = get_line("L1")
        categories = [
            key
            for key in line.enabled_plugin_keys
            if registry().descriptors.get(key) and registry().descriptors[key].category
        ]
        specs = {key: case_service.display_field_specs(line_facts(line), key) for key in categories}
        db.session.remove()
    client = app.test_client()

    def api(user):
        return Api(client, user)

    def act(user, case_id, name, **payload):
        return _ok(api(user).action(case_id, name, **payload), (200,))

    common = {"description": TEXT, "batch_no": "B2611-01", "customer": {"name": "上海经销商"}}
    common["customer"]["kind"] = "dealer"
    cases = {}
    for key in categories:
        details = details_of(specs[key])
        if key == "policy_returns":
            details.update(liable_party="company", insists_on_return=True, return_quantity=10)
        cases[key] = api("agent").create_case(**{**common, "category": key, "details": details})
    # two more on the same batch make a major incident
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    for days in (0, 1):
        api("agent").create_case(
            **common,
            category="product_quality",
            received_at=(start + dt.timedelta(days=days)).isoformat(),
            details=details_of(specs["product_quality"]),
        )
    logistics = cases["logistics"]["id"]
    act("supervisor", logistics, "accept", override=True, comment=TEXT)
    version = _ok(api("supervisor").get(f"/api/v1/case/{logistics}"))["version"]
    _ok(
        api("supervisor").post(
            f"/api/v1/case/{logistics}/priority",
            json={"priority": "P1", "reason": TEXT, "version": version},
        )
    )
    _ok(upload(api("agent"), logistics, PNG, "现场照片.png", source=TEXT), (201,))

    returns = cases["policy_returns"]["id"]
    act("agent", returns, "accept")
    act("supervisor", returns, "assign", department="WH")
    act("sales", returns, "propose", root_cause=TEXT)
    act("agent", returns, "submit")
    act("supervisor", returns, "approve", comment=TEXT)
    _ok(
        api("warehouse").post(
            f"/api/v1/returns/{returns}/receipts",
            json={"sku": "P-100", "batch_no": "B2611-01", "quantity": 10, "comment": TEXT},
        )
    )
    quality = cases["product_quality"]["id"]
    act("supervisor", quality, "accept", override=True, comment=TEXT)
    act("supervisor", quality, "assign", department="QA")
    _ok(
        api("qa").post(
            f"/api/v1/quality/{quality}/analysis",
            json={"root_cause": TEXT, "responsible_unit": "生产部"},
        )
    )
    _ok(
        api("qa").post(
            f"/api/v1/quality/{quality}/actions",
            json={
                "kind": "corrective",
                "description": TEXT,
                "responsible_unit": "生产部",
                "due_date": "2026-12-15",
            },
        )
    )
    if "terminal_consumer" in cases:
        act("agent", cases["terminal_consumer"]["id"], "reject", comment=TEXT)
    return [c["id"] for c in cases.values()]


def crawl(client, username, seeds, allowed, limit: int = 250, password: str = PASSWORD):
    """Visit what ``username`` can reach; return the pages and the problems found."""
    client.get("/logout/")
    resp = client.post("/login/", data={"username": username, "password": password})
    assert resp.status_code == 302, username
    queue = list(seeds)
    seen: set[str] = set()
    visited: set[str] = set()
    problems: list[str] = []
    while queue and len(seen) < limit:
        url = queue.pop(0)
        parts = urlsplit(urljoin("http://localhost/", url))
        if parts.netloc != "localhost" or SKIP.search(parts.path):
            continue
        # one page per record kind, but every case (each category has its own panels)
        key = parts.path if parts.path.startswith("/cases/") else re.sub(r"\d+", "N", parts.path)
        key += "?" + parts.query if url in seeds else ""
        if key in seen:
            continue
        seen.add(key)
        path = parts.path + ("?" + parts.query if parts.query else "")
        resp = client.get(path)
        if resp.status_code in (301, 302, 303):
            queue.append(resp.headers["Location"])
            continue
        assert resp.status_code < 500, (username, path, resp.status_code)
        if "text/html" not in resp.content_type:
            continue
        visited.add(parts.path)
        page = visible(resp.get_data(as_text=True))
        problems += [f"{username} {path}: {p}" for p in english_in(page.texts, allowed)]
        queue += [h.split("#")[0] for h in page.links if not h.startswith(("javascript:", "#"))]
    client.get("/logout/")
    return visited, problems


SEEDS = [
    "/",
    "/users/userinfo/",
    "/userinfoeditview/form",
    "/cases/new",
    "/cases/new?business_line=L1&category=logistics",
    "/plugins/",
    "/users/list/",
    "/roles/list/",
    "/calendars/",
    "/no-such-page",
]


# Flask-AppBuilder's related-view filter (roles/show) still calls the legacy Query.get().
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.LegacyAPIWarning")
def test_every_screen_of_every_role_is_in_chinese(app):
    ids = fill(app)
    allowed = ALLOWED | typed_words(app)
    client = app.test_client()
    seeds = SEEDS + [f"/cases/{pk}" for pk in ids] + [f"/cases/{pk}/edit" for pk in ids]
    visited: set[str] = set()
    problems: list[str] = []
    for username in ROLE_USERS.values():
        pages, found = crawl(client, username, seeds, allowed)
        visited |= pages
        problems += found
    assert problems == [], "\n".join(sorted(set(problems)))
    # the crawl saw the screens: cases, admin lists and forms, plugin settings, errors
    expected = {"/", "/cases/", "/users/list/", "/roles/list/", "/plugins/", "/no-such-page"}
    expected |= {"/users/userinfo/", "/customerview/list/", "/businesslineview/list/"}
    expected |= {f"/cases/{pk}" for pk in ids}
    assert expected <= visited, expected - visited
    assert any(p.startswith("/plugins/") and p.endswith("/settings") for p in visited)
    assert any(p.startswith("/users/show/") for p in visited)
    assert any(p.startswith("/users/edit/") for p in visited)


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.LegacyAPIWarning")
def test_the_demo_is_in_chinese(tmp_path):
    """`kesu demo`'s richer data (approvals, visits, finance, incidents), as the admin and the
    roles with screens of their own."""
    app = create_app(
        {"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True, "WTF_CSRF_ENABLED": False}
    )
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    from core.demo import USERS as DEMO_USERS

    allowed = ALLOWED | typed_words(app)
    client = app.test_client()
    with app.app_context():
        from core.models import Case

        seeds = SEEDS + [f"/cases/{pk}" for pk in db_ids(Case)]
    problems: list[str] = []
    # The admin sees every screen; the others add their own buttons and panels (every role
    # is crawled on the test seed above).
    logins = {role: username for username, role, *_ in reversed(DEMO_USERS)}
    for role in ("Admin", "CS Supervisor", "Finance", "Warehouse"):
        username = logins[role]
        _pages, found = crawl(client, username, seeds, allowed, password=DEMO_PASSWORD)
        problems += found
    assert problems == [], "\n".join(sorted(set(problems)))


def db_ids(model) -> list[int]:
    from core.extensions import db

    ids = list(db.session.scalars(sa.select(model.id)))
    db.session.remove()
    return ids


def test_messages_name_fields_and_statuses_in_chinese(app):
    """A refused registration names the field by its label; a 409 names the status by its."""
    client = app.test_client()
    api = Api(client, "agent")
    resp = api.post("/api/v1/case/", json={})
    assert resp.status_code == 400
    assert "business_line" in resp.get_json()["errors"]  # the API keeps the key
    assert english_in([resp.get_json()["message"]], ALLOWED) == []
    case = api.create_case()
    resp = Api(client, "supervisor").action(case["id"], "close")
    assert resp.status_code == 409
    message = resp.get_json()["message"]
    assert english_in([message], ALLOWED) == [], message
    # the intake screen, submitted empty
    login(client, "agent")
    page = client.post(
        "/cases/new?business_line=L1&category=logistics",
        data={"submit_case": "1"},
    )
    texts = visible(page.get_data(as_text=True)).texts
    assert english_in(texts, ALLOWED | {"agent"}) == []
    assert any("投诉渠道" in t for t in texts)


def test_disabling_a_category_asks_and_names_plugin_and_line(app, api):
    api("agent").create_case()
    client = app.test_client()
    login(client, "admin")
    page = client.post("/plugins/logistics/L1/off", data={})
    assert page.status_code == 200
    texts = visible(page.get_data(as_text=True)).texts
    assert "在 华彩涂料 停用“物流问题”？" in texts
    assert "该业务线此类别未结客诉：1 件。" in texts
    assert english_in(texts, ALLOWED | {"admin"}) == []
    from core.extensions import db
    from core.models import BusinessLine

    with app.app_context():
        line = db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == "L1"))
        assert "logistics" in line.enabled_plugin_keys  # nothing disabled yet
        db.session.remove()
    done = client.post("/plugins/logistics/L1/off", data={"confirm": "yes"}, follow_redirects=True)
    assert "已在 华彩涂料 停用“物流问题”。" in visible(done.get_data(as_text=True)).texts


def test_the_language_menu_shows_the_current_language_and_offers_both(client):
    login(client, "agent")
    html = client.get("/").get_data(as_text=True)
    menu = html[html.index('class="dropdown kesu-locale"') :]
    toggle, offered = menu[: menu.index("</ul>")].split('<ul class="dropdown-menu">', 1)
    assert "简体中文" in toggle and "English" not in toggle
    assert "/lang/en" in offered and "/lang/zh_CN" in offered
    client.get("/lang/en")
    html = client.get("/").get_data(as_text=True)
    toggle = html[html.index('class="dropdown kesu-locale"') :].split('<ul class="dropdown-menu">')[
        0
    ]
    assert "English" in toggle and "简体中文" not in toggle


def test_refused_forms_are_in_chinese(app, client):
    """Forms sent back with their errors name every field and problem in Chinese."""
    login(client, "admin")
    allowed = ALLOWED | typed_words(app)
    forms = [
        ("/users/add", {}),
        ("/users/add", {"last_name": "名" * 80, "username": "agent", "password": "a"}),
        ("/users/edit/2", {"last_name": ""}),
        ("/businesslineview/add", {"timezone": "Mars/Base"}),
        ("/customerview/add", {}),
        ("/productview/add", {"unit_price": "abc"}),
        ("/departmentview/add", {}),
        ("/linepositionview/add", {}),
        ("/plugins/kesu_core/L1/settings", {"work_week": "abc", "sla_reply": "zz"}),
        ("/plugins/major_incident/L1/settings", {"outbreak_cases": "many"}),
        ("/userinfoeditview/form", {"last_name": ""}),
    ]
    for path, data in forms:
        resp = client.post(path, data=data, follow_redirects=True)
        assert resp.status_code < 500, path
        texts = visible(resp.get_data(as_text=True)).texts
        assert english_in(texts, allowed) == [], path
    # the message names the setting by its label
    resp = client.post("/plugins/kesu_core/L1/settings", data={"work_week": "abc"})
    texts = visible(resp.get_data(as_text=True)).texts
    assert [t for t in texts if "的值无效" in t] and not [t for t in texts if "work_week" in t]


def test_the_sign_in_page_and_a_refused_sign_in_are_in_chinese(client):
    page = client.get("/login/")
    assert english_in(visible(page.get_data(as_text=True)).texts, ALLOWED) == []
    refused = client.post(
        "/login/", data={"username": "agent", "password": "wrong-password-1"}, follow_redirects=True
    )
    assert english_in(visible(refused.get_data(as_text=True)).texts, ALLOWED) == []
