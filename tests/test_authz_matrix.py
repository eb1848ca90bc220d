"""Every route × every role × own line / other line / anonymous, against tests/authz_matrix.py.

The routes come from ``app.url_map``: a route missing from the matrix, or a matrix entry whose
route is gone, fails the suite. Each chunk of views (CHUNKS in tests/authz_matrix.py) runs in one
test on a fresh database; the writing chunks' calls that may write run on PostgreSQL too
(``KESU_TEST_POSTGRES_URL``). Every refused call (anonymous, role, foreign line) must also have
written nothing. ``KESU_AUTHZ_DISCOVER=1 pytest -s`` prints every cell's answer.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
import sqlalchemy as sa

from tests.authz_calls import BODIES, PREPARE, VARIANT_ARGS, World
from tests.authz_matrix import ANY, CHUNKS, MATRIX, NOBODY, PUBLIC, Rule
from tests.conftest import PASSWORD, USERS

SKIPPED_METHODS = {"HEAD", "OPTIONS"}
# One user per role (the first one USERS lists), all of them members of L1 only (Admin: all).
ROLE_USERS = {}
for _username, (_role, _lines) in USERS.items():
    if _lines in ([], ["L1"]):
        ROLE_USERS.setdefault(_role, _username)

DISCOVER = os.environ.get("KESU_AUTHZ_DISCOVER")  # print what each cell answers


def route_keys(app) -> dict[str, Any]:
    """``{"<endpoint> <METHOD>": werkzeug rule}`` of every route the app serves."""
    keys = {}
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - SKIPPED_METHODS):
            keys[f"{rule.endpoint} {method}"] = rule
    return keys


def matrix_problems(served: dict[str, Any], matrix: dict[str, Rule]) -> list[str]:
    missing = sorted(set(served) - set(matrix))
    stale = sorted(set(matrix) - set(served))
    return [
        f"new route {key} ({served[key].rule}) is not in the authorization matrix "
        "(tests/authz_matrix.py)"
        for key in missing
    ] + [f"the authorization matrix names {key}, which no route serves any more" for key in stale]


def test_every_route_is_in_the_matrix(app):
    problems = matrix_problems(route_keys(app), MATRIX)
    assert not problems, "\n".join(problems)


def test_a_new_route_or_a_gone_one_fails_the_matrix(app):
    app.add_url_rule("/finance/export", "FinanceView.export", lambda: "", methods=["GET", "POST"])
    matrix = {k: v for k, v in MATRIX.items() if k != "CaseView.list GET"}
    assert matrix_problems(route_keys(app), {**matrix, "GoneView.x GET": Rule(PUBLIC)}) == [
        "new route CaseView.list GET (/cases/) is not in the authorization matrix "
        "(tests/authz_matrix.py)",
        "new route FinanceView.export GET (/finance/export) is not in the authorization matrix "
        "(tests/authz_matrix.py)",
        "new route FinanceView.export POST (/finance/export) is not in the authorization matrix "
        "(tests/authz_matrix.py)",
        "the authorization matrix names GoneView.x GET, which no route serves any more",
    ]


def test_the_matrix_names_only_known_roles_and_bodies():
    roles = {role for role, _ in USERS.values()}
    for key, rule in MATRIX.items():
        if isinstance(rule.roles, frozenset):
            assert rule.roles <= roles, key
        if rule.service_roles is not None:
            assert rule.service_roles <= roles, key
        for name in (rule.body, *rule.foreign):
            assert name is None or name in BODIES, (key, name)


# -- calling a route and judging the answer ------------------------------------------------------


class Caller:
    """Signed-in test clients (screens) and tokens (API), one per user, made on first use."""

    def __init__(self, app, api):
        self.app = app
        self.api = api
        self.clients: dict[str | None, Any] = {}

    def client(self, username: str | None):
        if username not in self.clients:
            client = self.app.test_client()
            if username is not None:
                resp = client.post("/login/", data={"username": username, "password": PASSWORD})
                assert resp.status_code == 302, username
            self.clients[username] = client
        return self.clients[username]

    def call(self, username: str | None, method: str, url: str, body) -> Any:
        is_api = url.startswith("/api/")
        client = self.app.test_client() if is_api else self.client(username)
        headers = self.api(username).headers if (is_api and username) else {}
        kw: dict[str, Any] = {"headers": headers}
        if body is not None:
            kind, data = body
            if kind == "json":
                kw["json"] = data
            elif kind == "query":
                kw["query_string"] = data
            elif kind == "multipart":
                kw["data"], kw["content_type"] = data, "multipart/form-data"
            else:
                kw["data"] = data
        resp = client.open(url, method=method, **kw)
        resp.text = resp.get_data()[:300].decode(errors="replace") if is_api else ""
        resp.close()
        return resp


def to_login(resp) -> bool:
    return resp.status_code == 302 and "/login/" in resp.headers.get("Location", "")


def expectation(rule: Rule, role: str | None, variant: str) -> str:
    if rule.roles == PUBLIC:
        return "public"
    if rule.roles == NOBODY:
        return "nobody"
    if role is None:
        return "anonymous"
    if rule.roles != ANY and role not in rule.roles:
        return "denied"
    if rule.service_roles is not None and role not in rule.service_roles and role != "Admin":
        return "refused"
    if role == "Admin":
        return "allowed" if variant in ("own", "other") else "any"
    if variant == "other" and rule.ruled:
        return "hidden"
    if variant not in ("own", "other"):
        return "refused"  # a foreign variant: create in, move to or pick from another line
    return "allowed"


def judge(expected: str, resp, is_api: bool, wrote: bool, rule: Rule) -> str | None:
    """None if the answer is the expected one, else what is wrong."""
    status = resp.status_code
    if status >= 500:
        return None if rule.known else f"{status}"
    if expected == "anonymous":
        ok = status == 401 if is_api else to_login(resp)
        return None if ok and not wrote else f"{status} (wrote: {wrote}), expected login"
    if expected == "denied":
        ok = status == 403 if is_api else (to_login(resp) or status == 403)
        return None if ok and not wrote else f"{status} (wrote: {wrote}), expected denied"
    if expected == "hidden":
        ok = status == 404 or (status == 403 and not rule.ids)
        return None if ok and not wrote else f"{status} (wrote: {wrote}), expected 404"
    if expected == "public":  # anyone may call it; what it answers is its own business
        return None
    if expected == "nobody":
        bad = wrote or (is_api and status < 400)
        return f"{status} (wrote: {wrote}), expected refused" if bad else None
    if expected == "refused":
        bad = wrote or to_login(resp) or status == 401 or (is_api and status < 400)
        return f"{status} (wrote: {wrote}), expected refused" if bad else None
    if expected == "any":  # Admin reaching into L2: every line is theirs; the input decides
        return f"{status}, expected no refusal" if to_login(resp) or status in (401, 403) else None
    # allowed
    missing = "missing" in rule.ids.values()
    if to_login(resp) or status in (401, 403) or (status == 404 and not missing):
        return f"{status}, expected allowed"
    if rule.writes and not wrote:
        return f"{status}, wrote nothing, expected a write"
    return None


def fill(world: World, rule: Rule, variant: str, key: str, werkzeug_rule) -> tuple[str, Any]:
    """The URL for a call, and the case it acts on (None when the route names no case)."""
    code = "L2" if variant == "other" else "L1"
    values = {**rule.args, **VARIANT_ARGS.get(variant, {})}
    case_id = None
    for arg, kind in rule.ids.items():
        if kind in ("line_case", "capa_case"):
            continue  # filled with the line's (the action's) case below
        if kind == "capa_action":
            case_id, values[arg] = world.pooled_capa(code)
            values.update({a: case_id for a, k in rule.ids.items() if k == "capa_case"})
        elif kind in ("money_line", "goods_line"):
            case_id, values[arg] = world.pooled_line(code, kind)
            values.update({a: case_id for a, k in rule.ids.items() if k == "line_case"})
        elif kind in ("closed_case", "pending_visit"):
            case_id, visit_id = world.pooled_closed(code, kind)
            values[arg] = case_id if kind == "closed_case" else visit_id
        elif kind in ("batch", "batch_write"):
            values[arg] = world.batch(code, fresh=kind == "batch_write")
        elif kind == "case_write":
            category = (
                "product_quality"
                if key.startswith("Quality")
                else "policy_returns"
                if key.startswith("Returns")
                else "logistics"
            )
            values[arg] = case_id = world.pooled_case(code, category)
        else:
            values[arg] = world.values[code][kind]
            if kind == "case":
                case_id = values[arg]
    for arg in werkzeug_rule.arguments:
        values.setdefault(arg, 1)
    with world.app.test_request_context():
        from flask import url_for

        url = url_for(werkzeug_rule.endpoint, **values)
    return url, case_id


def view_of(key: str) -> str:
    return key.split(" ")[0].rsplit(".", 1)[0]


def chunk_of(key: str) -> str:
    return next((name for name, (views, _) in CHUNKS.items() if view_of(key) in views), "common")


@pytest.mark.parametrize("chunk", [*CHUNKS, "common"])
def test_authorization_matrix(request, app, api, chunk):
    engine = request.node.callspec.params.get("app", "sqlite")
    if engine != "sqlite" and not CHUNKS.get(chunk, ((), False))[1]:
        pytest.skip("routes that write nothing run on SQLite only")
    served = route_keys(app)
    in_group = [k for k in MATRIX if chunk_of(k) == chunk]
    world = World(app, {kind for k in in_group for kind in MATRIX[k].ids.values()})
    caller = Caller(app, api)
    failures = []
    # Reads first, then writes; refused callers before allowed ones, Admin last.
    keys = sorted(
        (k for k in in_group if k in served),
        key=lambda k: (k.split(" ")[1] != "GET", k),
    )
    if engine != "sqlite":  # the write subset: every call that may write
        keys = [
            k
            for k in keys
            if not k.endswith(" GET") or k.split(" ")[0].endswith((".delete", ".action"))
        ]
    order = [None, *sorted(ROLE_USERS, key=lambda r: (r == "Admin", r))]
    deletes = watch_deletes(app)  # nothing kept is ever deleted, whoever calls what
    for key in keys:
        rule = MATRIX[key]
        if rule.skip:
            continue
        method = key.split(" ")[1]
        variants = ["own", "other", *rule.foreign] if (rule.ids or rule.foreign) else ["own"]
        if not rule.ids:
            variants = ["own", *rule.foreign]
        for role in order:
            # Refused before any record is read (Flask-AppBuilder's permission check): one call.
            gated = role is None or expectation(rule, role, "own") == "denied"
            for variant in ["own"] if gated else variants:
                url, case_id = fill(world, rule, variant, key, served[key])
                if variant in PREPARE and case_id is not None:
                    PREPARE[variant](world, case_id)
                code = "L2" if variant == "other" else "L1"
                body = None
                if rule.body or variant not in ("own", "other"):
                    name = rule.body if variant in ("own", "other") else variant
                    body = BODIES[name](world, code, case_id)
                # A GET writes nothing, except Flask-AppBuilder's delete and action links.
                watch = method != "GET" or key.split(" ")[0].endswith((".delete", ".action"))
                before = world.fingerprint() if watch else None
                resp = caller.call(ROLE_USERS.get(role), method, url, body)
                wrote = watch and world.fingerprint() != before
                if case_id is not None and (wrote or variant in PREPARE):
                    world.discard(case_id)  # the next call gets a case in its first state
                expected = expectation(rule, role, variant)
                problem = judge(expected, resp, url.startswith("/api/"), wrote, rule)
                cell = f"{key} as {role or 'anonymous'} ({variant}): {url}"
                if DISCOVER:
                    print(
                        f"{cell} -> {resp.status_code} wrote={wrote} {problem or 'ok'} {resp.text}"
                    )
                if problem:
                    failures.append(f"{cell}: {problem}")
    assert not failures, "\n".join(failures)
    assert deletes == [], deletes


def watch_deletes(app) -> list[str]:
    """The DELETE statements on kept tables (core.models.kept) the app sends from now on."""
    from core.extensions import db
    from core.models import KEPT_TABLES

    seen: list[str] = []
    pattern = re.compile(r"^\s*DELETE\s+FROM\s+\"?(\w+)", re.I)

    def check(conn, cursor, statement, parameters, context, executemany):
        match = pattern.match(statement)
        if match and match.group(1) in KEPT_TABLES:
            seen.append(statement)

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", check)
    return seen
