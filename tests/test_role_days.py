"""A logistics complaint through each role's day, in headless Chromium, in Chinese, through the
screens only: the agent registers it with a photo and the signed delivery note, accepts it and,
as its handler, proposes exceptional compensation; the supervisor assigns it and approves from
the inbox, the marketing director signs the second step; sales marks the reshipment shipped;
finance exports the credit note and enters its reference; the agent marks it executed and
records the customer's confirmation; the auditor checks the integrity of the audit trail.

Each step asserts what the person sees and leaves a screenshot (tests/role_day_helpers.py);
no request leaves 127.0.0.1, no script or console error, no 5xx.
"""

from __future__ import annotations

import openpyxl

from tests.role_day_helpers import (
    PDF,
    Walk,
    approve_from_the_inbox,
    case_number,
    mark_line_done,
    name_the_staff,
    now_on_the_line,
    png,
)

ROOT_CAUSE = "承运商装卸不当，外箱受压破损；承运商拒绝赔付"
REASON = "承运商拒赔且破损严重，按例外理赔"


def register_logistics(w: Walk) -> str:
    """The agent's registration form: line, category, customer picked while typing, the
    category's fields, a dropped photo; the live check asks for the delivery note until it
    is dropped too."""
    page = w.page
    page.click("#kesu-home-register")
    page.wait_for_load_state()
    assert page.inner_text("h2") == "登记客诉"
    with page.expect_navigation():
        page.select_option("#choose-line", "L1")
    page.select_option("#choose-category", "logistics")
    page.wait_for_selector("#details__problem")
    assert "物流问题类型" in page.inner_text("#kesu-category-fields")
    page.fill("#customer__name", "上海")
    page.wait_for_selector("#kesu-customer-suggest .kesu-suggestion")
    page.click("#kesu-customer-suggest .kesu-suggestion")
    assert "上海经销商" in page.inner_text("#kesu-customer-chosen")
    page.select_option("#channel", "phone")
    page.fill("#product", "P-100")
    page.fill("#batch_no", "B20261201")
    page.fill("#quantity_purchased", "100")
    page.fill("#goods_received_at", now_on_the_line())
    page.fill("#description", "到货外箱破损，3 桶漏液；承运商拒绝赔付")
    page.select_option("#demand", "compensation")
    page.select_option("#details__problem", "transit_damage")
    page.fill("#details__affected_quantity", "3")
    page.fill("#details__carrier", "顺达物流")
    page.select_option("#details__carrier_negotiation", "failed")
    page.select_option("#details__damage_severity", "severe")
    w.drop_files([("damage.png", "image/png", png())])
    page.wait_for_selector("#kesu-thumbs img.kesu-thumb-image")
    page.wait_for_selector("#kesu-live-issues:not([hidden]) li")
    assert "送货单" in page.inner_text("#kesu-live-issues")
    w.drop_files([("delivery-note.pdf", "application/pdf", PDF)])
    page.locator("#kesu-thumbs li").nth(1).locator("select").select_option("delivery_note")
    page.wait_for_selector("#kesu-live", state="hidden")
    assert not page.is_visible("#kesu-kind-template")  # the kinds' template stays hidden
    page.eval_on_selector("#kesu-submit", "e => e.scrollIntoView({block: 'end'})")
    w.shot("agent-register-logistics")
    page.click("#kesu-submit")
    page.wait_for_selector("#kesu-case-number")
    number = case_number(page.inner_text("#kesu-case-number"))
    assert w.status() == "已登记"
    assert "受理检查已通过" in w.history()
    assert "上传了照片“damage.png”" in w.history()
    assert page.locator("#kesu-gallery img.img-thumbnail").count() == 1  # the photo, shown
    return number


def propose_exceptional_compensation(w: Walk) -> None:
    """A credit note and a reshipment on the case page's compensation form."""
    page = w.page
    note = page.inner_text("#kesu-proposal-note")
    assert "承运商拒赔且残损严重" in note and "营销总监" in note
    form = page.locator("#kesu-compensation-form")
    form.locator("select[name=kind-0]").select_option("credit_note")
    form.locator("input[name=amount-0]").fill("120.00")
    form.locator("input[name=note-0]").fill("破损 3 桶冲销")
    form.locator("select[name=kind-1]").select_option("reship")
    form.locator("input[name=sku-1]").fill("P-100")
    form.locator("input[name=batch_no-1]").fill("B20261201")
    form.locator("input[name=quantity-1]").fill("3")
    form.locator("input[name=unit_price-1]").fill("40.00")
    form.locator("input[name=reason]").fill(REASON)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    w.flash_ok()
    assert page.inner_text("#kesu-total") == "240.00"
    assert "提出理赔：冲销 ¥120.00、补发 3 件 ¥120.00，合计 ¥240.00" in w.history()


def test_logistics_complaint_through_every_role(live_app, screen, tmp_path):
    name_the_staff(live_app)
    w = Walk(screen, tmp_path, "logistics")
    page = w.page

    # The agent: My work, registration, acceptance.
    w.sign_in("agent")
    assert page.inner_text("#kesu-workspace h2").startswith("我的工作")
    assert "这里暂无待办事项。" in page.inner_text("#kesu-work-my_new")
    number = register_logistics(w)
    w.shot("agent-case-registered")
    w.my_work()
    assert w.section_rows("my_new") == [number]
    assert w.section_count("my_new") == 1
    w.shot("agent-my-work")
    w.open_from_section("my_new", number)
    w.action("accept")
    assert w.status() == "已受理"

    # The supervisor: assigns from the unassigned list.
    w.sign_in("supervisor")
    assert w.section_rows("unassigned") == [number]
    w.shot("supervisor-my-work")
    w.open_from_section("unassigned", number)
    page.click("details[data-action-box=assign] > summary")
    offered = page.locator("#kesu-assign-handler option").all_inner_texts()
    assert "李客服" in offered and not {"吴财务", "郑审计", "warehouse"} & set(offered)
    w.action("assign", department="WH", handler="agent")
    assert w.status() == "调查中"
    assert "王主管 将客诉分派给 李客服（仓储部）" in w.history()

    # The agent, now its handler: proposes exceptional compensation and submits it.
    w.sign_in("agent")
    assert w.badge(".kesu-bell") == 1  # told of the assignment
    assert w.section_rows("my_handling") == [number]
    w.open_from_section("my_handling", number)
    # the root cause is chosen from the line's catalogue (原因分类), with the text explaining it
    w.action("propose", root_cause_category="运输 / 野蛮装卸", root_cause=ROOT_CAUSE)
    assert w.status() == "已提出方案"
    assert w.page.inner_text("#kesu-root-cause-category") == "运输 / 野蛮装卸"
    propose_exceptional_compensation(w)
    w.shot("agent-proposal")
    w.action("submit")
    assert w.status() == "审批中"
    assert "提交审批：客服主管 → 营销总监" in w.history()

    # Two approval steps, each from its signer's inbox.
    shown = (ROOT_CAUSE, "破损 3 桶冲销", f"理赔理由\n{REASON}")
    approve_from_the_inbox(w, "supervisor", number, "客服主管", "240.00", *shown)
    approve_from_the_inbox(w, "director", number, "营销总监", "240.00", *shown)

    # Sales ships the reshipment.
    w.sign_in("sales")
    assert number in w.section_rows("goods")
    w.shot("sales-my-work")
    w.open_from_section("goods", number)
    assert w.status() == "执行中"
    mark_line_done(w, "补发", "SO-2026-0088")
    assert "孙业务 执行了理赔：补发" in w.history()

    # Finance exports the credit note, downloads the workbook and enters the ERP reference.
    w.sign_in("finance")
    assert w.section_rows("to_export") == [number]
    w.menu("财务导出")
    credits = page.locator("#kesu-pending-credit_notes")
    assert (
        number in credits.inner_text()
        and credits.locator(".kesu-pending-total").inner_text() == "120.00"
    )
    credits.locator(".kesu-export-form button").click()
    page.wait_for_load_state()
    assert "已导出：1 条，合计 120.00" in w.flash_ok()
    batch = page.inner_text("#kesu-new-batch")
    assert "冲销/调账清单" in page.inner_text("#kesu-batches")
    w.shot("finance-export")
    with page.expect_download() as download:
        page.locator("#kesu-new-batch .kesu-download-xlsx").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    cells = [c.value for r in openpyxl.load_workbook(saved).active.iter_rows() for c in r]
    assert number in cells and "客诉编号" in cells
    assert batch.split()[1] in download.value.suggested_filename or number in cells
    w.my_work()
    assert w.section_rows("to_export") == []
    assert w.section_rows("references") == [number]
    w.open_from_section("references", number)
    mark_line_done(w, "冲销", "CN-2026-0042")

    # The agent: marked executed, then the customer's confirmation closes the case.
    w.sign_in("agent")
    w.open_from_section("my_handling", number)
    w.action("execute")
    assert w.status() == "客户确认中"
    w.my_work()
    w.open_from_section("my_confirming", number)
    w.action("confirm")
    assert w.status() == "已结案"
    history = w.history()
    assert "冲销到期：" in history and "理赔行:" not in history and "on:" not in history
    assert "登记客户已确认" in history and "客户确认中 → 已结案" in history
    w.shot("agent-closed")
    page.eval_on_selector("#timeline", "e => e.scrollIntoView()")
    w.shot("agent-case-history")

    # The auditor: the integrity check from My work.
    w.sign_in("auditor")
    page.click("#kesu-work-audit a:has-text('完整性校验')")
    page.wait_for_load_state()
    page.click("#kesu-verify button")
    page.wait_for_load_state()
    assert "审计记录完整" in page.inner_text("#kesu-verified")
    assert page.locator("#kesu-verified.alert-success").count() == 1
    assert "时间为中国（上海）时间" in page.inner_text("#kesu-audit-count")  # not a zone id
    w.shot("auditor-integrity")
    w.assert_clean()
