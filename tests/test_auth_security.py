"""Sign-in security: throttling through the database, equal answers for unknown names and wrong
passwords, password rules wherever a password is set, sessions and tokens retired by a password
change, a deactivation or a sign-out, and cookie flags."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import KesuUser
from tests.conftest import PASSWORD, make_app

LOGIN = "/api/v1/security/login"
SIGNED_IN_PAGE = "/inbox/"  # any page that needs a signed-in user
NEW_PASSWORD = "another-horse-77"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def api_login(client, username, password=PASSWORD, address="10.0.0.1"):
    return client.post(
        LOGIN,
        data=json.dumps({"username": username, "password": password}),  # ASCII, \u escapes
        content_type="application/json",
        environ_base={"REMOTE_ADDR": address},
    )


def form_login(client, username, password=PASSWORD, address="10.0.0.1", **kw):
    return client.post(
        "/login/",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
        **kw,
    )


def signed_in(client) -> bool:
    resp = client.get(SIGNED_IN_PAGE)
    assert resp.status_code in (200, 302), resp.status_code
    return resp.status_code == 200


def user_row(app, username) -> SimpleNamespace:
    with app.app_context():
        user = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == username))
        return SimpleNamespace(
            id=user.id,
            password=user.password,
            active=user.active,
            first_name=user.first_name,
            last_name=user.last_name,
            email=user.email,
            role_ids=[str(r.id) for r in user.roles],
            line_ids=[str(line.id) for line in user.business_lines],
        )


def assert_throttled(resp):
    assert resp.status_code == 429
    retry_after = int(resp.headers["Retry-After"])
    assert 0 < retry_after <= 900


# -- defect 4: throttling -------------------------------------------------------------------------


def test_api_login_is_throttled_per_account(client):
    for _ in range(5):
        assert api_login(client, "agent", "wrong-password").status_code == 401
    resp = api_login(client, "agent")  # the right password, too late
    assert_throttled(resp)
    assert resp.get_json()["message"] and "access_token" not in resp.get_json()
    assert_throttled(api_login(client, "agent", address="10.9.9.9"))  # from anywhere
    assert api_login(client, "supervisor").status_code == 200  # other accounts sign in


def test_form_login_is_throttled_per_account_and_shares_the_count_with_the_api(client):
    for _ in range(3):
        assert form_login(client, "agent", "wrong-password").status_code == 302
    for _ in range(2):
        assert api_login(client, "agent", "wrong-password").status_code == 401
    resp = form_login(client, "agent")
    assert_throttled(resp)
    assert "登录失败次数过多" in resp.get_data(as_text=True)
    assert not signed_in(client)
    assert_throttled(api_login(client, "agent"))
    resp = form_login(client, "supervisor")
    assert resp.status_code == 302 and signed_in(client)


def test_unknown_names_count_per_name_and_per_address(client):
    for _ in range(5):
        assert api_login(client, "ghost", "wrong-password").status_code == 401
    assert_throttled(api_login(client, "ghost", "wrong-password"))


def test_a_success_does_not_reset_the_address_count_of_attacks_on_other_accounts(client):
    attacker = "10.6.6.6"
    for i in range(19):
        assert api_login(client, f"ghost{i}", "wrong-password", attacker).status_code == 401
    assert api_login(client, "agent", address=attacker).status_code == 200
    assert api_login(client, "nobody", "wrong-password", attacker).status_code == 401  # 20th
    assert_throttled(api_login(client, "supervisor", address=attacker))
    assert_throttled(form_login(client, "qa", address=attacker))
    assert api_login(client, "supervisor", address="10.7.7.7").status_code == 200


def test_parallel_guesses_do_not_slip_past_the_limit_together(app):
    from concurrent.futures import ThreadPoolExecutor

    def guess(i):
        return api_login(app.test_client(), "agent", f"wrong-password-{i}").status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(guess, range(16)))
    assert set(statuses) <= {401, 429} and statuses.count(401) <= 5
    # A refused guess is not counted: the account takes exactly five failures in all.
    failures = statuses.count(401)
    while (resp := api_login(app.test_client(), "agent", "wrong-password")).status_code == 401:
        failures += 1
    assert_throttled(resp)
    assert failures == 5


def test_the_limits_are_settings(tmp_path, template_db):
    app = make_app(
        tmp_path, template_db, KESU_LOGIN_MAX_PER_ACCOUNT=2, KESU_LOGIN_MAX_PER_ADDRESS=0
    )
    client = app.test_client()
    for _ in range(2):
        assert api_login(client, "agent", "wrong-password").status_code == 401
    assert_throttled(api_login(client, "agent"))
    for i in range(30):  # no address limit
        assert api_login(client, f"ghost{i}", "wrong-password").status_code == 401
    assert api_login(client, "qa").status_code == 200


def test_worker_processes_share_the_count_through_the_database(app):
    """Three failures here, two in another Python process on the same database: throttled."""
    client = app.test_client()
    for _ in range(3):
        assert api_login(client, "agent", "wrong-password").status_code == 401
    script = textwrap.dedent(
        """
        import json, sys
        from core.app import create_app
        config = json.loads(sys.argv[1])
        client = create_app(config).test_client()
        statuses = [
            client.post(
                "/api/v1/security/login",
                json={"username": "agent", "password": "wrong-password"},
                environ_base={"REMOTE_ADDR": "10.0.0.2"},
            ).status_code
            for _ in range(2)
        ]
        print(json.dumps(statuses))
        """
    )
    config = {
        key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "KESU_UPLOAD_DIR")
    }
    config.update(
        INSTANCE_PATH=app.instance_path, TESTING=True, FAB_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000"
    )
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(config)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [401, 401]
    assert_throttled(api_login(client, "agent"))


# -- defect 4: the same answer and work for an unknown name and a wrong password -------------------


@pytest.fixture
def hash_checks(monkeypatch):
    """Records every password-hash check of a sign-in (the real check still runs)."""
    from core import auth_guard

    checked: list[str] = []
    real = auth_guard.check_password_hash

    def spy(pwhash, password):
        checked.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(auth_guard, "check_password_hash", spy)
    return checked


def test_unknown_name_inactive_account_and_wrong_password_answer_alike(app, client, hash_checks):
    with app.app_context():
        db.session.execute(
            sa.update(KesuUser).where(KesuUser.username == "warehouse").values(active=False)
        )
        db.session.commit()
    answers = []
    for name in ("agent", "no-such-user", "warehouse"):
        hash_checks.clear()
        resp = api_login(client, name, "wrong-password")
        answers.append((resp.status_code, resp.get_json()))
        assert len(hash_checks) == 1, name
        # Every path checks a hash made with the installation's method.
        assert hash_checks[0].split("$")[0] == user_row(app, "agent").password.split("$")[0]
    assert answers[0][0] == 401 and answers[0] == answers[1] == answers[2]
    pages = []
    for name in ("agent", "no-such-user", "warehouse"):
        hash_checks.clear()
        resp = form_login(client, name, "wrong-password")
        pages.append((resp.status_code, resp.headers["Location"]))
        assert len(hash_checks) == 1, name
        flash = client.get(resp.headers["Location"]).get_data(as_text=True)
        assert "no-such-user" not in flash
    assert pages[0][0] == 302 and pages[0] == pages[1] == pages[2]


def test_hostile_login_names_are_refused_before_any_lookup(client, hash_checks):
    hash_checks.clear()
    resp = api_login(client, "a\u202eb", "wrong-password")  # odd but valid text: a plain failure
    assert resp.status_code == 401
    assert len(hash_checks) == 1
    # Refused for what they are, whatever the account, before any lookup: a lone surrogate or a
    # NUL (not text) and a name longer than any user name can be.
    for username, password, field in (
        ("\ud800", "wrong-password", "username"),
        ("a\x00b", "wrong-password", "username"),
        ("agent", "\ud800", "password"),
        ("x" * 5000, "wrong-password", "username"),
    ):
        hash_checks.clear()
        resp = api_login(client, username, password)
        assert resp.status_code == 400 and field in resp.get_json()["errors"], username
        assert hash_checks == []


# -- defect 7: password rules ---------------------------------------------------------------------

BAD_PASSWORDS = [
    ("short-pw", "10"),  # 8 characters
    ("aaaaaaaaaaaa", "重复"),  # one character repeated
]


def test_create_user_command_applies_the_password_rules(app, runner):
    def create(username, password):
        return runner.invoke(
            args=["create-user", "--username", username, "--password", password, "--role", "QA"]
        )

    for password, _ in [*BAD_PASSWORDS, ("Quality-Inspector", None)]:
        result = create("quality-inspector", password)
        assert result.exit_code != 0, password
        assert "password" in result.output
    assert user_row_or_none(app, "quality-inspector") is None
    assert create("quality-inspector", "long-enough-42").exit_code == 0


def user_row_or_none(app, username):
    with app.app_context():
        return db.session.scalar(sa.select(KesuUser).where(KesuUser.username == username))


def test_reset_my_password_applies_the_rules(app, client):
    assert form_login(client, "supervisor").status_code == 302
    before = user_row(app, "supervisor").password
    for password, shown in [*BAD_PASSWORDS, ("SUPERVISOR", "用户名")]:
        resp = client.post(
            "/resetmypassword/form", data={"password": password, "conf_password": password}
        )
        assert resp.status_code == 400, password
        assert shown in resp.get_data(as_text=True)
    assert (
        client.post(
            "/resetmypassword/form", data={"password": "x", "conf_password": "x"}
        ).status_code
        == 400
    )
    assert user_row(app, "supervisor").password == before
    client.get("/lang/en")
    page = client.post(
        "/resetmypassword/form", data={"password": "x", "conf_password": "x"}
    ).get_data(as_text=True)
    assert "Use at least 10 characters." in page
    resp = client.post(
        "/resetmypassword/form", data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD}
    )
    assert resp.status_code == 302
    other = app.test_client()
    assert api_login(other, "supervisor", NEW_PASSWORD).status_code == 200


def test_admin_password_screens_apply_the_rules(app, client):
    assert form_login(client, "admin").status_code == 302
    agent = user_row(app, "agent")
    for password, shown in BAD_PASSWORDS:
        resp = client.post(
            f"/resetpassword/form?pk={agent.id}",
            data={"password": password, "conf_password": password},
        )
        assert resp.status_code == 400 and shown in resp.get_data(as_text=True)
    assert user_row(app, "agent").password == agent.password

    def add_user(password):
        form = {
            "first_name": "n",
            "last_name": "s",
            "username": "night-shift-agent",
            "email": "nsa@example.com",
            "active": "y",
            "roles": agent.role_ids,
            "password": password,
            "conf_password": password,
        }
        return client.post("/users/add", data=form)

    for password, shown in [*BAD_PASSWORDS, ("Night-Shift-Agent", "用户名")]:
        assert shown in add_user(password).get_data(as_text=True), password
        assert user_row_or_none(app, "night-shift-agent") is None
    resp = add_user(NEW_PASSWORD)
    assert resp.status_code == 302
    assert api_login(app.test_client(), "night-shift-agent", NEW_PASSWORD).status_code == 200


# -- defect 7: sessions and tokens ----------------------------------------------------------------


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_tokens_and_other_sessions_end_when_the_password_changes(app, client):
    token = api_login(client, "agent").get_json()["access_token"]
    assert client.get("/api/v1/case/", headers=bearer(token)).status_code == 200
    other_browser = app.test_client()
    assert form_login(other_browser, "agent").status_code == 302 and signed_in(other_browser)
    assert form_login(client, "agent").status_code == 302
    resp = client.post(
        "/resetmypassword/form", data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD}
    )
    assert resp.status_code == 302
    assert signed_in(client)  # the session that changed it stays
    assert not signed_in(other_browser)
    assert client.get("/api/v1/case/", headers=bearer(token)).status_code == 401
    fresh = api_login(app.test_client(), "agent", NEW_PASSWORD).get_json()["access_token"]
    assert client.get("/api/v1/case/", headers=bearer(fresh)).status_code == 200


def test_admin_reset_ends_the_users_tokens_and_sessions(app, client):
    agent = app.test_client()
    token = api_login(agent, "agent").get_json()["access_token"]
    refresh = agent.post(
        LOGIN, json={"username": "agent", "password": PASSWORD, "refresh": True}
    ).get_json()["refresh_token"]
    assert agent.post("/api/v1/security/refresh", headers=bearer(refresh)).status_code == 200
    assert form_login(agent, "agent").status_code == 302 and signed_in(agent)
    assert form_login(client, "admin").status_code == 302
    user_id = user_row(app, "agent").id
    resp = client.post(
        f"/resetpassword/form?pk={user_id}",
        data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD},
    )
    assert resp.status_code == 302
    assert not signed_in(agent)
    assert agent.get("/api/v1/case/", headers=bearer(token)).status_code == 401
    assert agent.post("/api/v1/security/refresh", headers=bearer(refresh)).status_code == 401
    own = user_row(app, "admin").id
    resp = client.post(
        f"/resetpassword/form?pk={own}",
        data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD},
    )
    assert resp.status_code == 302 and signed_in(client)


def test_a_session_cookie_copied_before_logout_is_refused_after_it(app, client):
    assert form_login(client, "agent").status_code == 302
    copied = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert signed_in(thief)
    token = api_login(app.test_client(), "agent").get_json()["access_token"]
    client.get("/logout/")
    assert not signed_in(client)
    assert not signed_in(thief)
    assert thief.get("/api/v1/case/", headers=bearer(token)).status_code == 401
    assert form_login(client, "agent").status_code == 302 and signed_in(client)


def test_deactivation_ends_tokens_and_sessions_for_good(app, client):
    agent = app.test_client()
    token = api_login(agent, "agent").get_json()["access_token"]
    assert form_login(agent, "agent").status_code == 302 and signed_in(agent)
    assert form_login(client, "admin").status_code == 302
    user = user_row(app, "agent")
    form = {
        "first_name": user.first_name,
        "last_name": user.last_name or "李",
        "username": "agent",
        "email": user.email,
        "roles": user.role_ids,
        "business_lines": user.line_ids,
    }
    assert client.post(f"/users/edit/{user.id}", data=form).status_code == 302  # unticked
    assert user_row(app, "agent").active is False
    assert not signed_in(agent)
    assert agent.get("/api/v1/case/", headers=bearer(token)).status_code == 401
    form["active"] = "y"
    assert client.post(f"/users/edit/{user.id}", data=form).status_code == 302
    assert user_row(app, "agent").active is True
    assert not signed_in(agent)  # reactivating does not revive old sessions or tokens
    assert agent.get("/api/v1/case/", headers=bearer(token)).status_code == 401


# -- defect 7: cookie flags -----------------------------------------------------------------------


def session_cookie(resp) -> str:
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, resp.headers
    return cookies[-1].lower()


def test_session_cookie_is_secure_over_https_and_always_httponly_lax(app, client):
    cookie = session_cookie(form_login(client, "agent", base_url="https://localhost"))
    assert "; secure" in cookie and "; httponly" in cookie and "samesite=lax" in cookie
    plain = session_cookie(form_login(app.test_client(), "qa"))
    assert "; secure" not in plain and "; httponly" in plain and "samesite=lax" in plain


def test_secure_cookie_behind_a_trusted_proxy_and_with_kesu_https(tmp_path, template_db):
    behind = make_app(tmp_path / "a", template_db, KESU_PROXY_FIX=1).test_client()
    resp = form_login(behind, "agent", headers={"X-Forwarded-Proto": "https"})
    assert "; secure" in session_cookie(resp)
    always = make_app(tmp_path / "b", template_db, KESU_HTTPS=True).test_client()
    assert "; secure" in session_cookie(form_login(always, "agent"))
    untrusted = make_app(tmp_path / "c", template_db).test_client()
    resp = form_login(untrusted, "agent", headers={"X-Forwarded-Proto": "https"})
    assert "; secure" not in session_cookie(resp)


def test_flask_appbuilder_commands_apply_the_password_rules(app):
    from flask.cli import ScriptInfo
    from flask_appbuilder.cli import fab

    runner = app.test_cli_runner()
    info = ScriptInfo(create_app=lambda: app)
    before = user_row(app, "agent").password
    args = ["reset-password", "--username", "agent", "--password", "short-pw"]
    result = runner.invoke(fab, args, obj=info)
    assert result.exit_code != 0 and user_row(app, "agent").password == before
    assert "10" in str(result.exception)  # refused by the rules, not by click's options
    args = ["create-user", "--role", "QA", "--username", "fab-user", "--firstname", "f"]
    args += ["--lastname", "u", "--email", "fab@example.com", "--password", "aaaaaaaaaaaa"]
    assert runner.invoke(fab, args, obj=info).exit_code != 0
    assert user_row_or_none(app, "fab-user") is None
    args[-1] = NEW_PASSWORD
    assert runner.invoke(fab, args, obj=info).exit_code == 0
    assert api_login(app.test_client(), "fab-user", NEW_PASSWORD).status_code == 200
