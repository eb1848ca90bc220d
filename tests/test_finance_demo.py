"""`kesu demo` leaves every role something to do: Finance approved credit-note and reshipment
lines ready to export on HUACAI and a credit made due by a reshipment sent before the recall;
the approvers a proposal in their inbox; every role rows in My work."""

from __future__ import annotations

import sqlalchemy as sa

from core.app import create_app
from core.demo import DEMO_PASSWORD
from core.extensions import db
from core.models import KesuUser
from core.services import execution, finance, lines
from core.services.execution import month_end
from core.timeutil import in_zone


def test_demo_has_lines_ready_to_export_and_a_credit_due(tmp_path):
    app = create_app(
        {"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True, "WTF_CSRF_ENABLED": False}
    )
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        clerk = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == "caiwu"))
        credits = finance.pending(clerk, "credit_notes", "HUACAI")
        reships = finance.pending(clerk, "reshipments", "HUACAI")
        assert credits.count >= 2 and reships.count >= 1
        cases = {c.case.number for c in credits.lines}
        assert len(cases) >= 2 and {c.case.number for c in reships.lines} <= cases
        # credit notes, and the approved return's freight the customer pays (as a charge)
        assert all(c.approved_at for c in credits.lines)
        assert {c.kind for c in credits.lines} == {"credit_note", "freight_to_customer"}
        line = lines.get_line("HUACAI")
        due = execution.credits_due(clerk, line.id)
        assert len(due) == 1 and due[0][1] is False
        credit = due[0][0]
        reshipped = next(c for c in credit.case.compensation if c.kind == "reship")
        assert reshipped.exec_status == "done"
        sent = in_zone(reshipped.exec_at, line.timezone).date()
        assert credit.credit_due_on == month_end(sent) and credit.exec_status == "pending"
        numbers = sorted(cases)
        db.session.remove()
    # Finance signs in and exports the credit-note list of the demo as a new user would.
    client = app.test_client()
    login = {"username": "caiwu", "password": DEMO_PASSWORD}
    assert client.post("/login/", data=login).status_code == 302
    html = client.get("/finance/").get_data(as_text=True)
    assert all(number in html for number in numbers) and "超期" not in html
    resp = client.post("/finance/export", data={"kind": "credit_notes", "business_line": "HUACAI"})
    assert resp.status_code == 302 and "created=" in resp.headers["Location"]
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'id="kesu-new-batch"' in html and "没有可导出的明细。" in html
    # the CS supervisor and, past the supervisor's step, the regional sales manager decide
    for approver in ("zhuguan", "quyu"):
        client = app.test_client()
        login = {"username": approver, "password": DEMO_PASSWORD}
        assert client.post("/login/", data=login).status_code == 302
        html = client.get("/inbox/").get_data(as_text=True)
        assert html.count("/approve") == 1, approver
    # every role but the admin finds work on its home page
    for user in ("kefu", "zhuguan", "pinbao", "cangchu", "yewu", "jingli", "caiwu", "cangku"):
        client = app.test_client()
        login = {"username": user, "password": DEMO_PASSWORD}
        assert client.post("/login/", data=login).status_code == 302
        assert "kesu-work-row" in client.get("/").get_data(as_text=True), user
    with app.app_context():
        db.engine.dispose()
