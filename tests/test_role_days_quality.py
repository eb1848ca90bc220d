"""A product-quality defect through each role's day, in headless Chromium, in Chinese, through
the screens only: the agent registers it with a photo and accepts it; the supervisor assigns it
to QA; QA records the analysis with the remedy and a corrective action for the responsible
unit; the responsible department reports the action done; QA proposes; the agent submits; the
supervisor approves from the inbox; sales ships the free goods and marks the compensation
executed; the agent records the customer's confirmation; QA verifies the effect; the agent
closes the case; the auditor finds the whole trail intact.

Screenshots, and the watchers for requests off 127.0.0.1, console errors and 5xx, as in
tests/test_role_days.py (tests/role_day_helpers.py).
"""

from __future__ import annotations

import datetime as dt

from tests.role_day_helpers import (
    LINE_ZONE,
    Walk,
    approve_from_the_inbox,
    case_number,
    mark_line_done,
    name_the_staff,
    png,
)

ROOT_CAUSE = "研磨工序筛网破损，颗粒混入成品"
MEASURE = "更换研磨筛网并增加过滤工序"


def register_quality(w: Walk, tmp_path) -> str:
    page = w.page
    page.click("#kesu-home-register")
    page.wait_for_load_state()
    with page.expect_navigation():
        page.select_option("#choose-line", "L1")
    page.select_option("#choose-category", "product_quality")
    page.wait_for_selector("#details__problem")
    fields = page.inner_text("#kesu-category-fields")
    assert "质量问题类型" in fields and "缺陷类型" in fields
    assert "处理方式" not in page.inner_text("#kesu-case-form")  # QA's, at investigation
    page.fill("#customer__name", "上海经销")
    page.wait_for_selector("#kesu-customer-suggest .kesu-suggestion")
    page.click("#kesu-customer-suggest .kesu-suggestion")
    page.select_option("#channel", "sales_rep")
    page.fill("#product", "P-100")
    page.fill("#batch_no", "B20261115")
    page.fill("#quantity_purchased", "200")
    page.fill("#description", "开罐后漆面有明显颗粒，10 桶无法施工")
    page.select_option("#demand", "exchange")
    page.select_option("#details__problem", "quality_defect")
    page.select_option("#details__defect", "particles")
    page.fill("#details__affected_quantity", "10")
    page.fill("#details__unit_price", "50.00")
    photo = tmp_path / "particles.png"
    photo.write_bytes(png())
    page.set_input_files("#kesu-evidence", str(photo))  # chosen with the file picker
    page.wait_for_selector("#kesu-thumbs img.kesu-thumb-image")
    assert page.input_value("#kesu-thumbs select") == "photo"
    page.eval_on_selector("#kesu-submit", "e => e.scrollIntoView({block: 'end'})")
    w.shot("agent-register-quality")
    page.click("#kesu-submit")
    page.wait_for_selector("#kesu-case-number")
    assert w.status() == "已登记"
    assert page.locator("#kesu-gallery img.img-thumbnail").count() == 1
    return case_number(page.inner_text("#kesu-case-number"))


def qa_analyses(w: Walk) -> None:
    """The analysis with the remedy, then a corrective action for the responsible unit."""
    page = w.page
    assert "质量分析与纠正措施" in page.inner_text("body")
    form = page.locator("#quality-analysis")
    form.locator("textarea[name=root_cause]").fill(ROOT_CAUSE)
    form.locator("input[name=responsible_unit]").fill("生产部")
    form.locator("input[name=engineering_change_no]").fill("ECN-2612-03")
    form.locator("select[name=remedy]").select_option("free_goods")
    form.locator("button").click()
    page.wait_for_load_state()
    assert "分析已登记" in w.flash_ok()
    assert (
        page.locator("#deadlines tr[data-deadline=qa_first_reply]").get_attribute("data-state")
        == "met"
    )
    due = (dt.datetime.now(LINE_ZONE).date() + dt.timedelta(days=10)).isoformat()
    add = page.locator("#quality-add-action")
    add.locator("select[name=kind]").select_option("corrective")
    add.locator("input[name=description]").fill(MEASURE)
    assert add.locator("input[name=responsible_unit]").input_value() == "生产部"
    add.locator("input[name=due_date]").fill(due)
    add.locator("button").click()
    page.wait_for_load_state()
    assert "措施已登记" in w.flash_ok() or MEASURE in page.inner_text("#quality-actions")
    row = page.locator("#quality-actions tr[data-capa]")
    assert MEASURE in row.inner_text() and row.get_attribute("data-done") == "no"
    history = w.history()
    assert f"登记了品保分析：原因“{ROOT_CAUSE}”，责任单位 生产部" in history
    assert f"登记了纠正措施：“{MEASURE}”，责任单位 生产部，完成期限 {due}" in history


def test_quality_defect_through_every_role(live_app, screen, tmp_path):
    name_the_staff(live_app)
    w = Walk(screen, tmp_path, "quality")
    page = w.page

    w.sign_in("agent")
    number = register_quality(w, tmp_path)
    w.action("accept")
    assert w.status() == "已受理"

    w.sign_in("supervisor")
    w.open_from_section("unassigned", number)
    w.action("assign", department="QA", handler="qa")
    assert w.status() == "调查中"

    # QA: told of the assignment, the analysis due in My work.
    w.sign_in("qa")
    assert w.badge(".kesu-bell") == 1
    assert w.section_rows("investigate") == [number]
    w.shot("qa-my-work")
    w.open_from_section("investigate", number)
    qa_analyses(w)
    w.shot("qa-analysis")

    # The responsible department: its action in My work, reported done on the case page.
    w.sign_in("dept")
    assert w.section_rows("capa_actions") == [number]
    assert MEASURE in page.inner_text("#kesu-work-capa_actions")
    w.open_from_section("capa_actions", number)
    row = page.locator("#quality-actions tr[data-capa]")
    row.locator("input[name=note]").fill("已更换 200 目筛网，新增二道过滤")
    row.locator("button").click()
    page.wait_for_load_state()
    assert "措施已报告完成" in w.flash_ok()
    row = page.locator("#quality-actions tr[data-capa]")
    assert row.get_attribute("data-done") == "yes"
    assert "已完成" in row.inner_text() and "已更换 200 目筛网" in row.inner_text()
    assert f"报告纠正措施“{MEASURE}”已完成" in w.history()
    w.shot("dept-action-done")
    w.my_work()
    assert w.section_rows("capa_actions") == []

    # QA proposes: the remedy gives the free-goods line.
    w.sign_in("qa")
    w.open_from_section("investigate", number)
    w.action("propose", root_cause=ROOT_CAUSE)
    assert w.status() == "已提出方案"
    lines = page.inner_text("#compensation")
    assert "免费订货单" in lines

    # The agent submits; the supervisor approves from the inbox.
    w.sign_in("agent")
    assert w.section_rows("my_handling") == [number]
    w.open_from_section("my_handling", number)
    total = page.inner_text("#kesu-total")
    w.action("submit")
    assert w.status() == "审批中"
    approve_from_the_inbox(w, "supervisor", number, "客服主管", total, ROOT_CAUSE, "免费订货单")

    # Sales ships the free goods and marks the compensation executed.
    w.sign_in("sales")
    w.open_from_section("goods", number)
    mark_line_done(w, "免费订货单", "SO-2026-0101")
    w.action("execute")
    assert w.status() == "客户确认中"

    # The agent records the customer's confirmation.
    w.sign_in("agent")
    w.open_from_section("my_confirming", number)
    w.action("confirm")
    assert w.status() == "效果确认"

    # QA verifies the effect; the agent closes.
    w.sign_in("qa")
    assert w.section_rows("verify") == [number]
    w.open_from_section("verify", number)
    w.action("verify", effective="yes")
    assert "赵品保 验证纠正措施有效" in w.history()
    w.sign_in("agent")
    assert w.section_rows("my_handling") == [number]
    w.open_from_section("my_handling", number)
    w.action("close")
    assert w.status() == "已结案"
    w.shot("agent-case-closed")

    w.sign_in("auditor")
    page.click("#kesu-work-audit a:has-text('审计记录')")
    page.wait_for_load_state()
    page.select_option("#kesu-audit-filters select[name=entity]", label="纠正/预防措施")
    page.click("#kesu-audit-filters button[type=submit]")
    page.wait_for_load_state()
    assert "共 2 条" in page.inner_text("#kesu-audit-count")
    trail = page.inner_text("table.kesu-audit")
    assert f"赵品保 登记了纠正措施：“{MEASURE}”" in trail
    assert f"钱仓储 报告纠正措施“{MEASURE}”已完成" in trail
    page.click("#kesu-verify button")
    page.wait_for_load_state()
    assert "审计记录完整" in page.inner_text("#kesu-verified")
    w.shot("auditor-audit-trail")
    w.assert_clean()
