"""The printable approval form (《客诉问题处理审批表》): every section, the lines' total, every
approval step of every round, escaping and masking, record rules; and in real Chromium, the
print media (no menus or buttons, the running case number) and a PDF of two or more A4 pages."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from core.extensions import db
from tests.conftest import Api, login
from tests.pdf_text import pdf_page_texts
from tests.plugin_helpers import act, add_evidence, to_investigating

SCRIPT = "<script>alert('x')</script>"


def approved_case(api) -> dict:
    """A product-quality case refused once and approved in a second round; one reshipment
    line (2 × 5.00) plus, in the second round, nothing else."""
    case = api("agent").create_case(
        category="product_quality",
        goods_received_at="2026-11-20T09:00:00",
        received_at="2026-11-20T10:00:00",
        claim_amount="300.00",
        description=f"{SCRIPT}外箱破损，漏液",
        details={"problem": "short_shipment", "affected_quantity": 2, "unit_price": "5.00"},
    )
    add_evidence(api, case["id"], "photo")
    to_investigating(api, case["id"], department="WH")
    act(api, case["id"], "qa", "propose", root_cause="仓库漏装 <b>两桶</b>")
    act(api, case["id"], "agent", "submit")
    act(api, case["id"], "supervisor", "refuse", comment="数量请复核")
    act(api, case["id"], "qa", "propose", root_cause="仓库漏装 <b>两桶</b>")
    act(api, case["id"], "agent", "submit")
    return act(api, case["id"], "supervisor", "approve", comment="同意补发")


def test_the_form_shows_every_section_total_and_step(app, client, api):
    case = approved_case(api)
    assert [(a["round"], a["decision"]) for a in case["approvals"]] == [
        (1, "refused"),
        (2, "approved"),
    ]
    login(client, "agent")
    resp = client.get(f"/cases/{case['id']}/approval-form")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    for text in (
        "客诉问题处理审批表",
        "客诉信息",
        "调查与责任",
        "处理方案",
        "审批",
        case["number"],
        "华彩涂料",
        "上海经销商",
        "13812345678",  # CS agents see contact details
        "外墙乳胶漆",
        "300.00",
        "仓储部",
        "补发",
        "数量请复核",
        "同意补发",
        "2026-11-20 10:00",  # received, in the line's time zone
    ):
        assert text in html, text
    # User text is escaped, never markup.
    assert SCRIPT not in html and "<b>两桶</b>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;两桶&lt;/b&gt;" in html
    total = re.search(r'id="kesu-form-total">([^<]*)<', html).group(1)
    assert Decimal(total) == sum(Decimal(c["amount"]) for c in case["compensation"])
    rows = re.findall(r'data-round="(\d+)" data-step="(\w+)" data-decision="(\w+)"', html)
    assert rows == [("1", "cs_supervisor", "refused"), ("2", "cs_supervisor", "approved")]
    # Every step's time, in the line's time zone.
    for step in case["approvals"]:
        assert step["at"][:16].replace("T", " ") in html
    # The running head carries the case number; the page is standalone (no menu).
    assert re.search(rf'id="kesu-running-number">[^<]*{case["number"]}<', html)
    assert "navbar" not in html


def test_contact_details_are_masked_without_view_contact(client, api):
    case = approved_case(api)
    login(client, "qa")
    html = client.get(f"/cases/{case['id']}/approval-form").get_data(as_text=True)
    assert "13812345678" not in html and "138****5678" in html
    assert "zhangsan@example.com" not in html and "z***@example.com" in html


def test_another_lines_case_is_not_found(client, api):
    case = api("agent").create_case()
    login(client, "agent2")
    assert client.get(f"/cases/{case['id']}/approval-form").status_code == 404
    assert client.get("/cases/999999/approval-form").status_code == 404


def test_the_case_page_links_to_the_form(client, api):
    case = api("agent").create_case()
    login(client, "agent")
    html = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    link = re.search(r'<a [^>]*href="([^"]+)"[^>]*target="_blank"', html)
    assert link and link.group(1) == f"/cases/{case['id']}/approval-form"
    assert "打印审批表" in html


# -- in Chromium ---------------------------------------------------------------------------


def long_case(live_app, lines: int = 60) -> tuple[int, str]:
    """A case with many approved compensation lines and an approval step: enough for 2+ A4
    pages. Written straight into the database: the page only renders what is there."""
    from core.db import utcnow
    from core.models import ApprovalStep, Case, CompensationLine

    api = Api(live_app.test_client(), "agent")
    case = api.create_case()
    with live_app.app_context():
        row = db.session.get(Case, case["id"])
        for n in range(1, lines + 1):
            row.compensation.append(
                CompensationLine(
                    position=n,
                    kind="reship",
                    quantity=n,
                    unit_price=Decimal("12.50"),
                    amount=Decimal("12.50") * n,
                    sku=f"P-{n:03d}",
                    batch_no=f"B{n:04d}",
                    note=f"第 {n} 行",
                    approved_at=utcnow(),
                )
            )
        row.approvals.append(
            ApprovalStep(
                round=1,
                seq=1,
                step="cs_supervisor",
                role="cs_supervisor",
                decision="approved",
                decided_at=utcnow(),
                comment="同意",
            )
        )
        db.session.commit()
    return case["id"], case["number"]


def pdf_pages(data: bytes) -> int:
    """The number of page objects in a PDF (no PDF library needed: Chromium writes each page
    as an object of ``/Type /Page``)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_print_media_and_a_pdf_of_several_pages(screen, live_app, locale):
    case_id, number = long_case(live_app)
    s = screen.login("agent", locale=locale)
    page = s.page
    s.goto(f"/cases/{case_id}/approval-form")
    # On screen: the Print button is there.
    assert page.is_visible("#kesu-print-button")
    page.emulate_media(media="print")
    assert not page.is_visible("#kesu-print-button")
    assert not page.is_visible("#kesu-print-toolbar")
    assert page.query_selector(".navbar") is None and page.query_selector("nav") is None
    visible_controls = page.eval_on_selector_all(
        "button, a[href], input, select, form",
        "els => els.filter(e => e.getClientRects().length > 0).length",
    )
    assert visible_controls == 0
    assert page.is_visible("#kesu-running-number")
    assert number in page.inner_text("#kesu-running-number")
    assert (
        page.eval_on_selector("#kesu-running-head", "e => getComputedStyle(e).position") == "fixed"
    )
    assert (
        page.eval_on_selector("#kesu-running-foot", "e => getComputedStyle(e).position") == "fixed"
    )
    assert number in page.inner_text("#kesu-running-foot")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert pdf.startswith(b"%PDF")
    assert pdf_pages(pdf) >= 2
    # The case number is printed on every page: the running head and foot.
    texts = pdf_page_texts(pdf)
    assert len(texts) == pdf_pages(pdf)
    assert all(text.count(number) >= 2 for text in texts), [t.count(number) for t in texts]
    assert "P-060" in texts[-1] and "P-001" in texts[0]  # the lines run over the pages
    # Everything the page loaded came from the app itself (no CDN).
    assert all(u.startswith(s.base) or u.startswith("data:") for u in s.requests)


def test_a_short_form_is_one_page(screen, live_app):
    case_id, _ = long_case(live_app, lines=1)
    s = screen.login("agent")
    s.goto(f"/cases/{case_id}/approval-form")
    s.page.emulate_media(media="print")
    assert pdf_pages(s.page.pdf(prefer_css_page_size=True)) == 1
