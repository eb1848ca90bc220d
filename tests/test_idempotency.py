"""``Idempotency-Key`` on every API POST: a retry replays the first answer and creates nothing.

In-process (both engines) for the rules; real ``kesu serve`` processes for 20 parallel
identical requests, which must create exactly one record.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from core.extensions import db
from core.models import Case, Evidence
from tests.conftest import case_body
from tests.procserver import ProcServers, call, login
from tests.test_evidence import PNG

KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def post_case(user, key: str | None, **overrides):
    headers = {**user.headers, **({KEY: key} if key is not None else {})}
    return user.client.post("/api/v1/case/", json=case_body(**overrides), headers=headers)


def test_retry_with_the_same_key_replays_the_first_answer(app, api):
    agent = api("agent")
    first = post_case(agent, "intake-0001")
    assert first.status_code == 201 and REPLAYED not in first.headers
    again = post_case(agent, "intake-0001")
    assert again.status_code == 201
    assert again.headers[REPLAYED] == "true"
    assert again.get_json() == first.get_json()
    assert count(app, Case) == 1
    # Without a key nothing changes: the same body twice is two cases.
    assert post_case(agent, None).status_code == 201
    assert post_case(agent, None).status_code == 201
    assert count(app, Case) == 3


def test_json_key_order_and_spacing_do_not_make_another_request(app, api):
    agent = api("agent")
    body = case_body()
    reordered = dict(reversed(list(body.items())))
    headers = {**agent.headers, KEY: "order-1", "Content-Type": "application/json"}
    first = agent.client.post("/api/v1/case/", data=json.dumps(body), headers=headers)
    again = agent.client.post(
        "/api/v1/case/", data=json.dumps(reordered, indent=2), headers=headers
    )
    assert first.status_code == again.status_code == 201
    assert again.headers[REPLAYED] == "true" and count(app, Case) == 1


def test_same_key_with_another_body_or_endpoint_is_refused_422(app, api):
    agent = api("agent")
    first = post_case(agent, "intake-0002")
    assert first.status_code == 201
    other = post_case(agent, "intake-0002", description="另一个问题")
    assert other.status_code == 422
    assert KEY in other.get_json()["errors"]
    elsewhere = agent.client.post(
        f"/api/v1/case/{first.get_json()['id']}/action/accept",
        json={},
        headers={**agent.headers, KEY: "intake-0002"},
    )
    assert elsewhere.status_code == 422 and KEY in elsewhere.get_json()["errors"]
    assert count(app, Case) == 1


def test_keys_are_per_user(app, api):
    one = post_case(api("agent"), "shared-key")
    two = post_case(
        api("agent2"),
        "shared-key",
        business_line="L2",
        customer={"name": "成都经销商"},
        product="B-200",
    )
    assert one.status_code == two.status_code == 201
    assert REPLAYED not in two.headers and one.get_json()["id"] != two.get_json()["id"]
    assert count(app, Case) == 2


def test_key_length_and_characters(app, api):
    agent = api("agent")
    for bad in ("k" * 256, "with space", "tab\tkey"):
        resp = post_case(agent, bad)
        assert resp.status_code == 400, bad
        assert KEY in resp.get_json()["errors"], bad
    assert count(app, Case) == 0
    assert post_case(agent, "k" * 255).status_code == 201
    assert post_case(agent, "k" * 255).headers[REPLAYED] == "true"
    assert count(app, Case) == 1


def test_a_failed_request_stores_nothing_and_may_be_retried(app, api):
    from core.models import IdempotencyKey

    agent = api("agent")
    bad = post_case(agent, "fix-and-retry", channel="carrier-pigeon")
    assert bad.status_code == 400 and "channel" in bad.get_json()["errors"]
    assert count(app, IdempotencyKey) == 0
    good = post_case(agent, "fix-and-retry")
    assert good.status_code == 201 and REPLAYED not in good.headers
    assert count(app, Case) == 1


def test_keys_are_kept_for_the_configured_hours(app, api):
    from core.models import IdempotencyKey

    agent = api("agent")
    assert app.config["KESU_IDEMPOTENCY_HOURS"] == 24
    assert post_case(agent, "old-key").status_code == 201

    def age(hours: float) -> None:
        with app.app_context():
            row = db.session.scalar(sa.select(IdempotencyKey))
            row.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)
            db.session.commit()

    age(23.9)
    assert post_case(agent, "old-key").headers[REPLAYED] == "true"
    assert count(app, Case) == 1
    age(24.1)
    again = post_case(agent, "old-key")
    assert again.status_code == 201 and REPLAYED not in again.headers
    assert count(app, Case) == 2


def test_evidence_upload_retry_stores_one_file(app, api):
    agent = api("agent")
    case_id = agent.create_case()["id"]

    def upload():
        return agent.client.post(
            f"/api/v1/case/{case_id}/evidence",
            data={"file": (io.BytesIO(PNG), "photo.png"), "kind": "photo"},
            content_type="multipart/form-data",
            headers={**agent.headers, KEY: "upload-1"},
        )

    first, again = upload(), upload()
    assert first.status_code == again.status_code == 201
    assert again.headers[REPLAYED] == "true" and again.get_json() == first.get_json()
    assert count(app, Evidence) == 1


def _post_api_rules(app):
    """Every POST endpoint of the REST API except signing in (which needs no key)."""
    rules = [
        r
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/") and "POST" in (r.methods or ())
    ]
    return [r for r in rules if not r.rule.startswith("/api/v1/security/")]


def test_every_api_post_honours_the_key(app, api):
    """A new POST endpoint that bypasses the mechanism fails here (a bad key is not refused)."""
    admin = api("admin")
    rules = _post_api_rules(app)
    assert any(r.rule == "/api/v1/case/" for r in rules)
    for rule in rules:
        url = re.sub(r"<(?:int:)?[^>]+>", lambda m: "1" if "int:" in m[0] else "x", rule.rule)
        resp = admin.client.post(url, json={}, headers={**admin.headers, KEY: "k" * 256})
        assert resp.status_code == 400, (rule.rule, resp.status_code)
        assert KEY in resp.get_json()["errors"], rule.rule


def test_openapi_documents_the_header_on_every_post(app, api):
    spec = api("agent").get("/api/v1/_openapi").get_json()
    param = spec["components"]["parameters"]["IdempotencyKey"]
    assert param["in"] == "header" and param["name"] == KEY
    assert param["schema"]["maxLength"] == 255
    posts = [(p, ops["post"]) for p, ops in spec["paths"].items() if "post" in ops]
    assert any(p == "/api/v1/case/" for p, _ in posts)
    for path, op in posts:
        if path.startswith("/api/v1/security/"):
            continue
        refs = [p.get("$ref") for p in op.get("parameters", [])]
        assert "#/components/parameters/IdempotencyKey" in refs, path
        assert "422" in op["responses"], path


def test_twenty_parallel_identical_requests_create_one_record(served_db):
    instance, url = served_db
    with ProcServers(instance, url, count=3) as servers:
        token = login(servers.urls[0], "agent")
        body = case_body(customer={"name": "并发新客户", "kind": "dealer"})

        def send(i: int):
            base = servers.urls[i % len(servers.urls)]
            return call(base + "/api/v1/case/", "POST", body, token, {KEY: "parallel-1"})

        with ThreadPoolExecutor(20) as pool:
            results = list(pool.map(send, range(20)))

    created = [(s, b, h) for s, b, h in results if s == 201]
    in_progress = [(s, b) for s, b, _ in results if s == 409]
    assert len(created) + len(in_progress) == 20, [s for s, _, _ in results]
    assert created, "at least the first request is answered"
    first = next(b for s, b, h in created if h.get(REPLAYED) != "true")
    assert [b for s, b, h in created if h.get(REPLAYED) != "true"] == [first]
    assert all(b == first for _, b, _ in created)
    assert all(KEY in b["errors"] for _, b in in_progress)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as con:
            assert con.execute(sa.text("SELECT count(*) FROM kesu_case")).scalar() == 1
            customers = con.execute(
                sa.text("SELECT count(*) FROM customer WHERE name = '并发新客户'")
            ).scalar()
            assert customers == 1
    finally:
        engine.dispose()
