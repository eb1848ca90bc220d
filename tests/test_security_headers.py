"""Security headers: a nonce-based Content-Security-Policy and frame/sniffing protection on every
response, and the screens still work under it (see also the ``screen`` fixture in conftest.py,
which fails every browser test on a CSP violation)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import make_app
from tests.test_screen_rules import login

PAGES = [
    "/",
    "/cases/",
    "/cases/new?business_line=L1&category=logistics",
    "/customerview/list/",
    "/customerview/add",
    "/users/list/",
    "/roles/list/",
    "/audit/",
    "/sla/",
    "/finance/",
    "/plugins/",
    "/swagger/v1",
]
SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)


def _directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def _check_headers(resp) -> str:
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    csp = _directives(resp.headers["Content-Security-Policy"])
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    scripts = csp["script-src"]
    assert "'self'" in scripts
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(scripts)
    nonces = [s for s in scripts if s.startswith("'nonce-")]
    assert len(nonces) == 1, scripts
    return nonces[0][len("'nonce-") : -1]


def test_every_page_has_the_headers_and_every_inline_script_the_nonce(client):
    resp = client.get("/login/")
    first = _check_headers(resp)
    assert _check_headers(client.get("/login/")) != first  # a new nonce per response
    login(client, "admin")
    for path in PAGES:
        resp = client.get(path)
        assert resp.status_code == 200, path
        nonce = _check_headers(resp)
        for attributes in SCRIPT.findall(resp.get_data(as_text=True)):
            if "src=" in attributes:
                assert re.search(r'src="/', attributes), (path, attributes)  # same origin
            else:
                assert f'nonce="{nonce}"' in attributes, (path, attributes)


def test_api_and_files_have_the_headers_too(client, api):
    _check_headers(api("agent").get("/api/v1/case/"))
    with client.get("/static/kesu/kesu.css") as resp:
        _check_headers(resp)
    _check_headers(client.get("/no-such-page"))


@pytest.fixture
def live_app(tmp_path, template_db):
    """The app with one extra page: an inline script with the nonce and one without."""
    app = make_app(tmp_path, template_db, WTF_CSRF_ENABLED=True)

    @app.route("/csp-probe")
    def csp_probe():
        from flask import render_template_string

        return render_template_string(
            "<html><body>"
            '<script nonce="{{ csp_nonce() }}">window.__withNonce = 1</script>'
            "<script>window.__injected = 1</script>"
            '<img src="x" onerror="window.__handler = 1">'
            "</body></html>"
        )

    yield app
    from core.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_browser_runs_only_scripts_with_the_nonce(screen):
    screen.allow_csp_violations = True  # this page provokes them on purpose
    page = screen.page
    screen.goto("/csp-probe")
    page.wait_for_load_state("load")
    ran = page.evaluate("() => [window.__withNonce, window.__injected, window.__handler]")
    assert ran == [1, None, None]
    assert len(screen.csp_violations) >= 2, screen.csp_violations


def test_framework_scripts_still_work_under_the_policy(screen):
    """FAB's list page runs inline scripts (search filters); Swagger UI runs its bundle."""
    s = screen.login("admin")
    s.goto("/customerview/list/")
    page = s.page
    assert page.evaluate("() => typeof window.jQuery") == "function"
    # the search widget's inline script fills the filter menu from the server's filter list
    page.wait_for_selector(".filters a, .filter-action, .dropdown-menu a", state="attached")
    s.goto("/swagger/v1")
    page.wait_for_selector("#swagger-ui .info", timeout=30000)
    s.goto("/cases/new?business_line=L1&category=logistics")
    assert page.is_visible("#choose-category")
    assert screen.csp_violations == []
