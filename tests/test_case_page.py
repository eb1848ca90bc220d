"""The case page (issue 10, item 5): action buttons with just their fields, the evidence
gallery and its inline image preview, one root-cause field, and submit refused on an empty
proposal the customer's request contradicts."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, Case
from tests.conftest import signed_in
from tests.plugin_helpers import act, add_evidence, read, to_investigating
from tests.test_evidence import PDF, PNG

MIGRATION = Path(__file__).parent.parent / "core/migrations/versions/0007e_root_cause.py"


def page_of(app, username: str, case_id: int) -> str:
    resp = signed_in(app, username).get(f"/cases/{case_id}")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def buttons(html: str) -> list[str]:
    """The actions offered in the page's action column, in order."""
    column = html[html.index('id="kesu-actions"') :]
    return re.findall(r'<form method="post" action="[^"]*" data-action="(\w+)"', column)


def events(app, case_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.case_id == case_id)
        )


# -- buttons ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "user", ["agent", "supervisor", "qa", "dept", "sales", "manager", "finance", "agent2"]
)
def test_buttons_are_the_allowed_actions_per_role_and_stage(app, api, user):
    case = api("agent").create_case(demand="improvement")
    cid = case["id"]
    stages = []
    for action, runner, payload in (
        (None, None, {}),
        ("accept", "agent", {}),
        ("assign", "supervisor", {"department": "QA"}),
        ("propose", "qa", {"root_cause": "承运商装卸不当"}),
    ):
        if action:
            act(api, cid, runner, action, **payload)
        html = signed_in(app, user).get(f"/cases/{cid}")
        if user == "agent2":  # another line's case does not exist for them
            assert html.status_code == 404
            continue
        allowed = read(api, cid, user=user)["allowed_actions"]
        shown = buttons(html.get_data(as_text=True))
        assert shown == allowed, (read(api, cid)["status"], user)
        stages.append((read(api, cid)["status"], tuple(shown)))
    if user == "supervisor":  # the rule is not vacuous: the supervisor has buttons per stage
        assert dict(stages)["new"] == ("accept", "reject", "hold")
        assert "assign" in dict(stages)["accepted"]


def test_each_action_carries_just_its_fields(app, api):
    cid = api("agent").create_case()["id"]
    html = page_of(app, "supervisor", cid)
    accept = html[html.index('data-action="accept"') :]
    accept = accept[: accept.index("</form>")]
    assert "<details" in accept and "required" not in accept  # one click, optional comment
    assert 'name="department"' not in accept
    # reject asks its reason: a required comment, behind its own button
    assert re.search(r'<details class="kesu-action" data-action-box="reject">', html)
    reject = html[html.index('data-action="reject"') :]
    reject = reject[: reject.index("</form>")]
    assert re.search(r'<textarea name="comment"[^>]*required', reject)
    assert "说明（必填）" in reject
    act(api, cid, "agent", "accept")
    html = page_of(app, "supervisor", cid)
    assign = html[html.index('data-action="assign"') :]
    assign = assign[: assign.index("</form>")]
    assert 'name="department"' in assign and 'name="handler"' in assign
    handlers = re.findall(r'<option value="(\w+)"', assign[assign.index('name="handler"') :])
    assert "qa" in handlers and "agent" in handlers
    assert not {"finance", "auditor", "warehouse", "manager"} & set(handlers)  # may_handle only


def test_reject_without_reason_names_the_field_and_writes_nothing(app, api):
    cid = api("agent").create_case()["id"]
    before = events(app, cid)
    client = signed_in(app, "agent")
    resp = client.post(f"/cases/{cid}/action/reject", data={}, follow_redirects=True)
    assert resp.status_code == 200
    assert "请填写说明" in resp.get_data(as_text=True)  # 说明: the reason field's label
    assert read(api, cid)["status"] == "new" and events(app, cid) == before
    resp = client.post(
        f"/cases/{cid}/action/reject", data={"comment": "超过受理时限"}, follow_redirects=True
    )
    assert read(api, cid)["status"] == "rejected" and events(app, cid) == before + 1


# -- evidence gallery ---------------------------------------------------------------------------


def test_gallery_shows_images_as_thumbnails_and_other_files_as_a_list(app, api):
    cid = api("agent").create_case()["id"]
    png = add_evidence(api, cid, "photo", content=PNG, filename="破损.png")
    pdf = add_evidence(api, cid, "document", content=PDF, filename="签收单.pdf")
    html = page_of(app, "agent", cid)
    gallery = html[
        html.index('id="kesu-gallery"') : html.index("</ul>", html.index("kesu-gallery"))
    ]
    preview = f"/cases/{cid}/evidence/{png['id']}/preview"
    assert f'<img src="{preview}"' in gallery and "破损.png" in gallery
    assert "签收单.pdf" not in gallery
    files = html[html.index('id="kesu-files"') :]
    files = files[: files.index("</table>")]
    assert "签收单.pdf" in files and "fa-file-pdf-o" in files and "破损.png" not in files

    client = signed_in(app, "agent")
    resp = client.get(preview)
    assert resp.status_code == 200 and resp.data == PNG
    assert resp.mimetype == "image/png"
    assert resp.headers["Content-Disposition"].startswith("inline;")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in resp.headers["Content-Security-Policy"]
    resp.close()
    # a PDF is never shown inline: only the download (an attachment) serves it
    assert client.get(f"/cases/{cid}/evidence/{pdf['id']}/preview").status_code == 404
    download = client.get(f"/cases/{cid}/evidence/{pdf['id']}")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    download.close()


def test_another_lines_user_cannot_load_the_image(app, api):
    cid = api("agent").create_case()["id"]
    png = add_evidence(api, cid, "photo", content=PNG)
    url = f"/cases/{cid}/evidence/{png['id']}/preview"
    assert signed_in(app, "agent2").get(url).status_code == 404
    shown = signed_in(app, "agent").get(url)
    assert shown.status_code == 200
    shown.close()
    assert app.test_client().get(url).status_code == 302  # anonymous: to the login page
    # an evidence id of another case does not leak through this case's URL
    other = api("agent").create_case()
    theirs = add_evidence(api, other["id"], "photo", content=PNG)
    assert (
        signed_in(app, "agent").get(f"/cases/{cid}/evidence/{theirs['id']}/preview").status_code
        == 404
    )


# -- one root cause -----------------------------------------------------------------------------


def quality_defect(api, **details):
    case = api("agent").create_case(
        category="product_quality",
        details={
            "problem": "quality_defect",
            "affected_quantity": 3,
            "unit_price": "100.00",
            **details,
        },
    )
    to_investigating(api, case["id"], department="QA")
    return case["id"]


def test_one_root_cause_field_on_the_page_and_in_the_api(app, api):
    cid = quality_defect(api)
    resp = api("qa").post(
        f"/api/v1/quality/{cid}/analysis",
        json={"root_cause": "研磨工序筛网破损", "responsible_unit": "生产部"},
    )
    assert resp.status_code == 200, resp.get_json()
    case = resp.get_json()["result"]
    assert case["root_cause"] == "研磨工序筛网破损" and "root_cause" not in case["details"]
    html = page_of(app, "qa", cid)
    assert html.count("<dt>原因分析</dt>") == 1
    assert html.count("研磨工序筛网破损") >= 2  # shown once, prefilled in the analysis form
    # the plugin's copy is no longer accepted: one field, the case's
    resp = api("agent").put(
        f"/api/v1/case/{cid}", json={"details": {"root_cause": "x"}, "version": case["version"]}
    )
    assert resp.status_code == 400 and "details.root_cause" in resp.get_json()["errors"]
    # propose uses (and may change) the same field the analysis wrote
    version = read(api, cid)["version"]
    api("dept").post(
        f"/api/v1/quality/{cid}/actions",
        json={
            "kind": "corrective",
            "description": "更换筛网",
            "responsible_unit": "生产部",
            "due_date": "2026-12-31",
        },
    )
    assert read(api, cid)["version"] >= version
    proposed = act(api, cid, "qa", "propose")
    assert proposed["root_cause"] == "研磨工序筛网破损"


def load_migration():
    spec = importlib.util.spec_from_file_location("m0007e", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_moves_the_plugins_root_cause_into_the_cases(app, api):
    keep = api("agent").create_case(
        category="product_quality", details={"problem": "short_shipment"}
    )
    move = api("agent").create_case(
        category="product_quality", details={"problem": "short_shipment"}
    )
    both = api("agent").create_case(
        category="product_quality", details={"problem": "short_shipment"}
    )
    plain = api("agent").create_case()
    migration = load_migration()
    with app.app_context():
        table = Case.__table__
        for case, details, core in (
            (keep, {"problem": "short_shipment", "root_cause": "同一原因"}, "同一原因"),
            (move, {"problem": "short_shipment", "root_cause": "仅在插件"}, None),
            (both, {"problem": "short_shipment", "root_cause": "插件的"}, "核心的"),
        ):
            db.session.execute(
                table.update()
                .where(table.c.id == case["id"])
                .values(details=details, root_cause=core)
            )
        db.session.commit()
        with db.engine.begin() as connection:
            assert migration.move_root_causes(connection) == 3
        with db.engine.begin() as connection:
            assert migration.move_root_causes(connection) == 0  # a second run changes nothing
    cases = {c["id"]: read(api, c["id"]) for c in (keep, move, both, plain)}
    assert cases[keep["id"]]["root_cause"] == "同一原因"
    assert cases[move["id"]]["root_cause"] == "仅在插件"
    assert cases[both["id"]]["root_cause"] == "核心的\n插件的"
    assert all("root_cause" not in c["details"] for c in cases.values())
    assert cases[move["id"]]["details"] == {"problem": "short_shipment"}


# -- submit and the empty proposal --------------------------------------------------------------


def proposed(api, **body):
    """A logistics case at the proposal stage: its default proposal holds no compensation."""
    cid = api("agent").create_case(**body)["id"]
    to_investigating(api, cid)
    case = act(api, cid, "qa", "propose", root_cause="承运商装卸不当")
    assert case["compensation"] == []
    return cid


def test_submit_refuses_an_empty_proposal_the_customer_asked_compensation_for(app, api):
    cid = proposed(api, demand="compensation")
    before = events(app, cid)
    body = api("agent").action(cid, "submit").get_json()
    assert body["problems"][0]["code"] == "empty_proposal"
    assert "赔偿" in body["message"] and "compensation" in body["errors"]
    assert read(api, cid)["status"] == "proposed" and events(app, cid) == before
    en = api("agent").post(f"/api/v1/case/{cid}/action/submit?_l_=en", json={}).get_json()
    assert "customer asked" in en["message"]  # the reader's language


@pytest.mark.parametrize(
    ("body", "asked"),
    [
        ({"demand": "compensation"}, True),
        ({"demand": "refund"}, True),
        ({"demand": "exchange"}, True),
        ({"demand": "improvement"}, False),
        ({"demand": "apology"}, False),
        ({"demand": None}, False),
        ({"demand": "apology", "claim_amount": "0.01"}, True),
        ({"demand": "apology", "claim_amount": "0.00"}, False),
    ],
)
def test_what_counts_as_the_customer_asking(api, body, asked):
    cid = proposed(api, **body)
    resp = api("agent").action(cid, "submit")
    if asked:
        assert (
            resp.status_code == 422 and resp.get_json()["problems"][0]["code"] == "empty_proposal"
        )
    else:
        assert resp.status_code == 200 and resp.get_json()["result"]["status"] == "confirming"


def test_one_compensation_line_passes(api):
    # the carrier refused and the damage is severe: the company may compensate by exception
    cid = proposed(
        api,
        demand="compensation",
        details={"problem": "delay", "carrier_negotiation": "failed", "damage_severity": "severe"},
    )
    version = read(api, cid)["version"]
    resp = api("qa").put(
        f"/api/v1/case/{cid}/compensation",
        json={
            "lines": [{"kind": "credit_note", "amount": "50.00", "note": "运输破损"}],
            "reason": "承运商拒赔",
            "version": version,
        },
    )
    assert resp.status_code == 200, resp.get_json()
    assert act(api, cid, "agent", "submit")["status"] == "approving"


def test_confirmed_empty_proposal_needs_a_reason_and_is_audited(app, api):
    cid = proposed(api, demand="compensation")
    refused = act(api, cid, "agent", "submit", status=422, confirm_empty=True)
    assert refused["problems"][0]["code"] == "empty_proposal_reason"
    assert "comment" in refused["errors"]
    bad = api("agent").action(cid, "submit", confirm_empty="yes", comment="x")
    assert bad.status_code == 400 and "confirm_empty" in bad.get_json()["errors"]
    case = act(api, cid, "agent", "submit", confirm_empty=True, comment="由客户向承运商索赔")
    assert case["status"] == "confirming"
    with app.app_context():
        event = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.case_id == cid, AuditEvent.action == "submit")
            .order_by(AuditEvent.id.desc())
        ).first()
        assert event.changes["confirm_empty"] is True
        assert event.changes["comment"] == "由客户向承运商索赔"


def test_a_quality_case_without_a_remedy_no_longer_skips_approval(api):
    cid = quality_defect(api)  # no remedy chosen: the proposal holds no line
    api("qa").post(
        f"/api/v1/quality/{cid}/analysis",
        json={"root_cause": "筛网破损", "responsible_unit": "生产部"},
    )
    resp = api("dept").post(
        f"/api/v1/quality/{cid}/actions",
        json={
            "kind": "corrective",
            "description": "更换筛网",
            "responsible_unit": "生产部",
            "due_date": "2026-12-31",
        },
    )
    assert resp.status_code == 201, resp.get_json()
    case = act(api, cid, "qa", "propose")
    assert case["compensation"] == []
    refused = act(api, cid, "agent", "submit", status=422)
    assert refused["problems"][0]["code"] == "empty_proposal"
    assert read(api, cid)["status"] == "proposed"  # not 客户确认中


def test_the_submit_button_asks_the_confirmation_on_an_empty_proposal(app, api):
    cid = proposed(api, demand="compensation")
    html = page_of(app, "agent", cid)
    submit = html[html.index('data-action="submit"') :]
    submit = submit[: submit.index("</form>")]
    assert 'name="confirm_empty"' in submit and "确认不予赔偿" in submit
    assert re.search(r'<textarea name="comment"[^>]*required', submit)
    client = signed_in(app, "agent")
    client.post(f"/cases/{cid}/action/submit", data={"comment": "不赔"})
    assert read(api, cid)["status"] == "proposed"  # no confirmation: refused
    client.post(f"/cases/{cid}/action/submit", data={"confirm_empty": "yes", "comment": "不赔"})
    assert read(api, cid)["status"] == "confirming"
    # a customer who asked nothing: a plain one-click submit, no confirmation offered
    other = proposed(api, demand="improvement")
    html = page_of(app, "agent", other)
    submit = html[html.index('data-action="submit"') :]
    assert 'name="confirm_empty"' not in submit[: submit.index("</form>")]


# -- in Chromium --------------------------------------------------------------------------------


def test_case_page_in_the_browser(screen, live_app):
    from tests.test_plugin_screens import api_of

    api = api_of(live_app)
    cid = api("agent").create_case()["id"]
    add_evidence(api, cid, "photo", content=PNG, filename="破损.png")
    add_evidence(api, cid, "document", content=PDF, filename="签收单.pdf")
    act(api, cid, "agent", "accept")
    s = screen.login("supervisor")
    s.goto(f"/cases/{cid}")
    page = s.page
    # the buttons: 分派 opens its small form; nothing else of it shows before
    summaries = page.eval_on_selector_all(
        "#kesu-actions details.kesu-action > summary", "els => els.map(e => e.textContent.trim())"
    )
    assert summaries == ["分派…", "等待客户…"]
    assert not page.is_visible("form[data-action=assign] select[name=department]")
    page.click("details[data-action-box=assign] > summary")
    assert page.is_visible("form[data-action=assign] select[name=department]")
    handlers = page.eval_on_selector_all(
        "form[data-action=assign] select[name=handler] option",
        "els => els.map(e => e.value).filter(Boolean)",
    )
    assert "qa" in handlers and "finance" not in handlers
    page.select_option("form[data-action=assign] select[name=department]", "QA")
    page.select_option("form[data-action=assign] select[name=handler]", "qa")
    page.click("form[data-action=assign] button")
    page.wait_for_load_state()
    assert page.inner_text(".kesu-status") == "调查中"

    # the gallery: the photo is a loaded thumbnail, the PDF a file in the list
    assert page.eval_on_selector("#kesu-gallery img", "img => img.complete && img.naturalWidth") > 0
    assert "签收单.pdf" in page.inner_text("#kesu-files")
    assert "签收单.pdf" not in page.inner_text("#kesu-gallery")
    assert not page.is_visible("#kesu-preview")
    page.click("#kesu-gallery .kesu-preview-link")
    page.wait_for_selector("#kesu-preview[open]")
    assert page.eval_on_selector(
        "#kesu-preview img", "img => img.src.endsWith('/preview') && img.naturalWidth > 0"
    )
    assert "破损.png" in page.inner_text("#kesu-preview .kesu-preview-caption")
    page.click("#kesu-preview button")
    assert not page.is_visible("#kesu-preview")
