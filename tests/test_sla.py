"""The SLA engine through the API and the CLI: deadlines on the line's calendar, hold and resume,
the priority matrix at its boundaries, the overdue sweep (in-app and e-mail), at-risk customers
and SLA attainment on a constructed set of cases."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, BusinessLine, Case, CaseDeadline, Notification
from tests.conftest import keep_next_deadlines

SH = ZoneInfo("Asia/Shanghai")


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


def new_customer(name: str, kind: str = "dealer") -> dict:
    return {"name": name, "kind": kind}


# -- deadlines on the calendar --------------------------------------------------------------


def test_deadlines_follow_the_china_calendar_across_national_day(api):
    """Received Wed 2026-09-30 10:00: Oct 1-7 are holidays, Oct 8 and 9 count, Saturday Oct 10
    is a make-up working day; business minutes stop at 18:00 and resume on Oct 8."""
    case = api("agent").create_case(received_at="2026-09-30T10:00:00")
    d = case["deadlines"]
    assert d["registered"] == "2026-10-08T18:00:00+08:00"  # 1 working day
    assert d["reply"] == "2026-10-10T18:00:00+08:00"  # 3 working days, the make-up Saturday
    assert d["solution"] == "2026-10-13T18:00:00+08:00"  # 5: Sunday 11th is off
    assert d["reply_max"] == "2026-10-15T18:00:00+08:00"
    assert d["compensation_done"] == "2026-10-20T18:00:00+08:00"
    assert d["closed"] == "2026-10-28T18:00:00+08:00"
    assert d["first_response"] == "2026-09-30T10:15:00+08:00"  # 15 business minutes
    assert d["assigned"] == "2026-09-30T12:00:00+08:00"  # 2 business hours
    assert d["start_handling"] == "2026-10-02T10:00:00+08:00"  # P3: 48 hours on the clock
    late = api("agent").create_case(received_at="2026-09-30T17:50:00")
    assert late["deadlines"]["first_response"] == "2026-10-08T09:05:00+08:00"
    assert late["deadlines"]["assigned"] == "2026-10-08T10:50:00+08:00"


def test_a_case_received_on_a_make_up_day_or_a_holiday(api):
    saturday = api("agent").create_case(received_at="2026-10-10T10:00:00")  # make-up day
    assert saturday["deadlines"]["registered"] == "2026-10-12T18:00:00+08:00"
    assert saturday["deadlines"]["first_response"] == "2026-10-10T10:15:00+08:00"
    holiday = api("agent").create_case(received_at="2026-10-03T10:00:00")
    assert holiday["deadlines"]["registered"] == "2026-10-08T18:00:00+08:00"
    assert holiday["deadlines"]["first_response"] == "2026-10-08T09:15:00+08:00"


def test_p1_deadlines_run_on_the_clock(api):
    case = api("agent").create_case(
        received_at="2026-09-30T17:50:00", details={"problem": "delay"}, channel="regulator"
    )
    # The major-incident plugin makes a regulator referral major, hence P1.
    d = case["deadlines"]
    assert (case["priority"], case["priority_reasons"]) == ("P1", ["major"])
    assert d["first_response"] == "2026-09-30T18:05:00+08:00"  # 15 minutes on the clock
    assert d["start_handling"] == "2026-09-30T18:50:00+08:00"  # 1 hour
    assert d["investigation"] == "2026-10-01T17:50:00+08:00"  # 24 hours, over a holiday
    assert d["reply"] == "2026-10-01T17:50:00+08:00"


def test_reaching_a_stage_meets_its_deadlines_and_records_how_late(api):
    case = api("agent").create_case(received_at="2026-11-02T10:00:00")
    accepted = api("agent").action(case["id"], "accept").get_json()["result"]
    sla = accepted["sla"]
    assert sla["first_response"]["state"] == "met" and sla["first_response"]["missed"]
    due = dt.datetime.fromisoformat(sla["first_response"]["due_at"])
    met = dt.datetime.fromisoformat(sla["first_response"]["met_at"])
    assert sla["first_response"]["late_minutes"] == int((met - due).total_seconds()) // 60 > 0
    assert sla["assigned"]["state"] == "running" and sla["assigned"]["overdue_minutes"] > 0
    assert sla["registered"]["state"] == "met"  # registered at intake, after its deadline
    assert sla["classified"]["state"] == "met"
    fresh = api("agent").create_case(customer=new_customer("准时客户"))
    fresh = api("agent").action(fresh["id"], "accept").get_json()["result"]
    assert fresh["sla"]["first_response"] == {
        **fresh["sla"]["first_response"],
        "state": "met",
        "missed": False,
        "late_minutes": 0,
    }
    assert fresh["sla"]["closed"]["left_minutes"] > 0


def test_rejecting_voids_open_deadlines_and_reopening_restarts_them(api):
    case = api("agent").create_case(received_at="2026-11-02T10:00:00")
    rejected = (
        api("agent").action(case["id"], "reject", comment="超出受理范围").get_json()["result"]
    )
    assert rejected["sla"]["closed"]["state"] == "void"
    assert rejected["sla"]["registered"]["state"] == "met"
    before = dt.datetime.now(SH)
    reopened = api("supervisor").action(case["id"], "reopen", comment="复核").get_json()["result"]
    closed = reopened["sla"]["closed"]
    # It runs again, 16 working days from the reopening rather than from the receipt.
    assert closed["state"] == "running" and closed["left_minutes"] > 0
    assert dt.datetime.fromisoformat(closed["due_at"]) > before + dt.timedelta(days=16)
    assert reopened["sla"]["registered"]["state"] == "met"  # registration is not repeated


def test_a_case_sent_back_runs_the_deadlines_of_the_stages_it_repeats(app, api, temp_plugin):
    from tests.test_workflow import claims_plugin, step

    temp_plugin(claims_plugin())  # a category that verifies its corrective action
    cid = api("agent").create_case(
        category="claims", received_at="2026-11-02T10:00:00", demand="improvement"
    )["id"]
    for action, status in [
        ("accept", "accepted"),
        ("assign", "investigating"),
        ("propose", "proposed"),
        ("submit", "confirming"),
        ("confirm", "verifying"),
    ]:
        case = step(api, cid, action, status)
    assert case["sla"]["investigation"]["state"] == "met"
    assert case["sla"]["investigation"]["late_minutes"] > 0  # received long ago
    assert case["sla"]["proposal"]["state"] == "met"
    looped = api("qa").action(cid, "verify", effective=False, comment="仍有颗粒")
    sla = looped.get_json()["result"]["sla"]
    for name in ("investigation", "solution", "compensation_done", "closed"):
        assert sla[name]["state"] == "running" and sla[name]["left_minutes"] > 0, name
    assert "proposal" not in sla  # it runs again from the next proposal
    assert sla["assigned"]["state"] == "met" and sla["registered"]["state"] == "met"
    case = step(api, cid, "propose", "proposed")
    assert case["sla"]["investigation"] == {
        **case["sla"]["investigation"],
        "state": "met",
        "late_minutes": 0,
    }
    proposed_at = dt.datetime.fromisoformat(case["sla"]["investigation"]["met_at"])
    assert case["sla"]["proposal"]["state"] == "running"
    with app.app_context():
        from core.services.sla import calendar_for

        cal = calendar_for(
            db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == "L1"))
        )
        expected = cal.end_of_working_days(proposed_at, 1)
    assert case["sla"]["proposal"]["due_at"] == expected.isoformat()
    resubmitted = step(api, cid, "submit", "confirming")["sla"]["proposal"]
    assert resubmitted["state"] == "met"
    assert dt.datetime.fromisoformat(resubmitted["met_at"]) >= proposed_at  # this round's
    step(api, cid, "confirm", "verifying")
    step(api, cid, "verify", "verifying")
    closed = step(api, cid, "close", "closed")["sla"]["closed"]
    assert closed["state"] == "met" and closed["late_minutes"] == 0
    reopened = step(api, cid, "reopen", "investigating")["sla"]["closed"]
    assert reopened["state"] == "running" and reopened["met_at"] is None


def test_hold_pauses_every_clock_and_resume_moves_open_deadlines_by_working_time(app, api):
    case = api("agent").create_case(received_at="2026-11-02T10:00:00")
    api("agent").action(case["id"], "accept")
    held = api("agent").action(case["id"], "hold", comment="等待客户补充照片").get_json()["result"]
    assert {v["state"] for k, v in held["sla"].items() if k != "first_response"} <= {
        "paused",
        "met",
    }
    assert held["sla"]["reply"]["state"] == "paused"
    before = {k: v["due_at"] for k, v in held["sla"].items()}
    with app.app_context():  # the hold began on Tuesday 2026-11-03 at 09:00
        db.session.execute(
            sa.update(Case).where(Case.id == case["id"]).values(held_at=local("2026-11-03T09:00"))
        )
        db.session.commit()
    started = dt.datetime.now(dt.UTC)
    resumed = api("agent").action(case["id"], "resume").get_json()["result"]
    ended = dt.datetime.now(dt.UTC)
    with app.app_context():
        from core.services.sla import calendar_for

        cal = calendar_for(
            db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == "L1"))
        )
        lo = cal.working_time_between(local("2026-11-03T09:00"), started)
        hi = cal.working_time_between(local("2026-11-03T09:00"), ended)
        rows = {
            r.name: r
            for r in db.session.scalars(
                sa.select(CaseDeadline).where(CaseDeadline.case_id == case["id"])
            )
        }
        held_for = dt.timedelta(seconds=rows["reply"].hold_seconds)
        assert lo - dt.timedelta(seconds=1) <= held_for <= hi + dt.timedelta(seconds=1)
        # 16 whole working days (Nov 3 to Nov 24) at least, and never the hours off.
        assert held_for >= dt.timedelta(hours=16 * 9)
        reply = cal.add_working_time(dt.datetime.fromisoformat(before["reply"]), held_for)
        assert resumed["sla"]["reply"]["due_at"] == reply.isoformat()
        # start_handling (P3: 48 hours) runs on the clock: the whole hold is added to it.
        on_clock = dt.timedelta(seconds=rows["start_handling"].hold_clock_seconds)
        assert started - local("2026-11-03T09:00") - dt.timedelta(seconds=1) <= on_clock
        assert on_clock <= ended - local("2026-11-03T09:00") + dt.timedelta(seconds=1)
        moved = dt.datetime.fromisoformat(before["start_handling"]) + on_clock
        assert resumed["sla"]["start_handling"]["due_at"] == moved.isoformat()
        assert rows["first_response"].hold_seconds == 0  # met before the hold: unchanged
    assert resumed["sla"]["reply"]["state"] == "running"
    assert resumed["sla"]["reply"]["hold_minutes"] == int(held_for.total_seconds()) // 60
    assert resumed["sla"]["first_response"]["due_at"] == before["first_response"]


def test_a_deadline_that_runs_from_a_stage_is_not_restarted_by_resume(app, api):
    from tests.test_workflow import step

    cid = api("agent").create_case()["id"]
    for action, status in [
        ("accept", "accepted"),
        ("assign", "investigating"),
        ("propose", "proposed"),
    ]:
        step(api, cid, action, status)
    with app.app_context():  # proposed Monday 2026-11-02 10:00; on hold from Tuesday 17:00
        case = db.session.get(Case, cid)
        times = {**case.stage_times, "proposed": local("2026-11-02T10:00").isoformat()}
        db.session.execute(sa.update(Case).where(Case.id == cid).values(stage_times=times))
        db.session.commit()
    api("agent").put(f"/api/v1/case/{cid}", json={"description": "补充说明"})
    held = api("agent").action(cid, "hold", comment="等待客户").get_json()["result"]
    assert held["sla"]["proposal"]["due_at"] == "2026-11-03T18:00:00+08:00"
    with app.app_context():
        db.session.execute(
            sa.update(Case).where(Case.id == cid).values(held_at=local("2026-11-03T17:00"))
        )
        db.session.commit()
    started = dt.datetime.now(dt.UTC)
    resumed = api("agent").action(cid, "resume").get_json()["result"]
    ended = dt.datetime.now(dt.UTC)
    proposal = resumed["sla"]["proposal"]
    assert proposal["state"] == "running" and proposal["hold_minutes"] > 0
    # One working hour was left when the clock stopped: it is due one working hour after the
    # resumption (not re-anchored at the resumption, which would give a working day more).
    due = dt.datetime.fromisoformat(proposal["due_at"])
    with app.app_context():
        from core.services.sla import calendar_for

        cal = calendar_for(
            db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == "L1"))
        )
        assert cal.working_time_between(ended, due) <= dt.timedelta(hours=1)
        assert cal.working_time_between(started, due) >= dt.timedelta(minutes=59)


def test_an_admin_enters_a_year_by_hand_and_open_cases_follow(app, api, runner, tmp_path):
    case = api("agent").create_case(received_at="2026-11-02T10:00:00")
    assert case["deadlines"]["reply"] == "2026-11-05T18:00:00+08:00"
    listing = tmp_path / "days.txt"
    listing.write_text(
        "# a year no package knows, as announced\n2099-01-01 holiday 元旦\n"
        "2099-02-02..2099-02-06 holiday 春节\n2099-01-31 班 春节调休\n2026-11-03 holiday 厂庆\n",
        encoding="utf-8",
    )
    out = runner.invoke(args=["calendar", "import", "--line", "L1", str(listing)])
    assert out.exit_code == 0, out.output
    assert "8 dates written" in out.output
    moved = api("agent").get(f"/api/v1/case/{case['id']}").get_json()["result"]
    assert moved["deadlines"]["reply"] == "2026-11-06T18:00:00+08:00"  # Nov 3 is now off
    with app.app_context():
        from core.services.sla import calendar_for

        cal = calendar_for(
            db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == "L1"))
        )
        friday = local("2099-01-30T10:00")
        assert cal.end_of_working_days(friday, 1) == local("2099-01-31T18:00")  # make-up day
        assert cal.end_of_working_days(friday, 2) == local("2099-02-09T18:00")
        assert cal.add_working_time(local("2099-01-31T17:30"), dt.timedelta(hours=1)) == local(
            "2099-02-09T09:30"
        )
    listed = runner.invoke(args=["calendar", "list", "--line", "L1", "--year", "2099"])
    assert "2099-01-31 workday  春节调休" in listed.output
    bad = tmp_path / "bad.txt"
    bad.write_text("2099-13-01 holiday\n2099-01-02 假期\n", encoding="utf-8")
    refused = runner.invoke(args=["calendar", "import", "--line", "L1", str(bad)])
    assert refused.exit_code != 0
    assert "第 1 行" in refused.output and "第 2 行" in refused.output  # both lines named
    again = runner.invoke(args=["calendar", "list", "--line", "L1", "--year", "2099"])
    assert again.output == listed.output  # nothing written


def test_replacing_a_year_keeps_only_the_new_list(app, runner, tmp_path):
    listing = tmp_path / "days.txt"
    listing.write_text("2026-12-31 holiday 测试\n", encoding="utf-8")
    out = runner.invoke(
        args=["calendar", "import", "--line", "L2", "--replace-year", "2026", str(listing)]
    )
    assert out.exit_code == 0, out.output
    listed = runner.invoke(args=["calendar", "list", "--line", "L2", "--year", "2026"])
    assert listed.output.strip() == "2026-12-31 holiday  测试"
    other = runner.invoke(args=["calendar", "list", "--line", "L1", "--year", "2026"])
    assert "2026-10-01 holiday" in other.output  # another line's calendar is its own
    seeded = runner.invoke(args=["calendar", "seed", "--line", "L2", "--year", "2026"])
    assert "dates added" in seeded.output and not seeded.output.startswith("0 ")


# -- priority -----------------------------------------------------------------------------


def test_claim_amount_p2_boundary(api):
    below = api("agent").create_case(claim_amount="4999.99", customer=new_customer("甲"))
    at = api("agent").create_case(claim_amount="5000.00", customer=new_customer("乙"))
    assert (below["priority"], below["priority_reasons"]) == ("P3", [])
    assert (at["priority"], at["priority_reasons"]) == ("P2", ["claim_amount"])


def test_key_account_is_p2_and_p1_where_it_makes_a_case_major(api):
    on_l2 = api("agent2").create_case(
        business_line="L2", product="B-200", customer=new_customer("大客户", "key_account")
    )
    assert (on_l2["priority"], on_l2["priority_reasons"]) == ("P2", ["key_account"])
    # L1 runs the major-incident plugin, for which a key account's complaint is major.
    on_l1 = api("agent").create_case(customer=new_customer("大客户", "key_account"))
    assert (on_l1["priority"], on_l1["priority_reasons"]) == ("P1", ["major"])


def test_repeat_complaint_window_counts_its_last_day(api):
    first = api("agent").create_case(received_at="2026-10-01T10:00:00", customer=new_customer("丙"))
    assert first["priority"] == "P3"
    last_day = api("agent").create_case(
        received_at="2026-10-31T23:59:00", customer=new_customer("丙")
    )
    assert (last_day["priority"], last_day["priority_reasons"]) == ("P2", ["repeat_complaint"])
    api("agent").create_case(received_at="2026-09-30T23:59:00", customer=new_customer("丁"))
    day_after = api("agent").create_case(
        received_at="2026-10-31T00:00:00", customer=new_customer("丁")
    )
    assert day_after["priority"] == "P3"  # 31 days after: outside the window


def test_priority_is_recomputed_when_inputs_change(api):
    case = api("agent").create_case(claim_amount="100.00", customer=new_customer("戊"))
    assert case["priority"] == "P3"
    body = {"claim_amount": "8000.00", "version": case["version"]}
    changed = api("agent").put(f"/api/v1/case/{case['id']}", json=body).get_json()["result"]
    assert (changed["priority"], changed["priority_reasons"]) == ("P2", ["claim_amount"])
    assert changed["deadlines"]["start_handling"] != case["deadlines"]["start_handling"]


def test_repeat_window_is_a_line_setting(app, api):
    from core.services import lines
    from core.services.access import SYSTEM

    api("agent").create_case(received_at="2026-10-01T10:00:00", customer=new_customer("己"))
    with app.app_context():
        lines.update_plugin_settings(SYSTEM, "L1", "kesu_core", {"repeat_days": "45"})
    case = api("agent").create_case(received_at="2026-11-14T10:00:00", customer=new_customer("己"))
    assert case["priority_reasons"] == ["repeat_complaint"]


def test_manual_priority_needs_a_reason_and_is_audited(app, api):
    case = api("agent").create_case(claim_amount="100.00", customer=new_customer("庚"))
    url = f"/api/v1/case/{case['id']}/priority"
    no_reason = api("supervisor").post(url, json={"priority": "P1", "reason": " "})
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]
    bad = api("supervisor").post(url, json={"priority": "P0", "reason": "x"})
    assert bad.status_code == 400 and "priority" in bad.get_json()["errors"]
    assert api("agent").post(url, json={"priority": "P1", "reason": "x"}).status_code == 403
    ok = api("supervisor").post(url, json={"priority": "P1", "reason": "客户威胁投诉到工商"})
    assert ok.status_code == 200, ok.get_json()
    result = ok.get_json()["result"]
    assert result["priority"] == "P1" and result["priority_reasons"] == ["manual"]
    assert result["priority_override_reason"] == "客户威胁投诉到工商"
    assert result["deadlines"]["start_handling"] < case["deadlines"]["start_handling"]
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(
                AuditEvent.case_id == case["id"], AuditEvent.action == "priority"
            )
        )
        assert event.changes["priority"] == ["P3", "P1"]
        assert event.changes["reason"] == "客户威胁投诉到工商"
    back = api("manager").post(url, json={"priority": None, "reason": "恢复规则"})
    assert back.get_json()["result"]["priority"] == "P3"
    assert back.get_json()["result"]["priority_override_reason"] is None


# -- the sweep ------------------------------------------------------------------------------


def _notes(app, username: str) -> list[Notification]:
    from core.models import KesuUser

    with app.app_context():
        user = db.session.scalar(sa.select(KesuUser).where(KesuUser.username == username))
        return list(
            db.session.scalars(
                sa.select(Notification).where(
                    Notification.user_id == user.id, Notification.kind == "overdue"
                )
            )
        )


def test_sweep_escalates_each_passed_deadline_once_and_mails_the_supervisor(
    app, api, runner, smtp_server
):
    old = api("agent").create_case(received_at="2026-11-02T10:00:00")
    paused = api("agent").create_case(
        received_at="2026-11-02T10:00:00", customer=new_customer("辛")
    )
    api("agent").action(paused["id"], "hold", comment="等待客户")
    api("agent").create_case(customer=new_customer("壬"))  # nothing of it has passed
    first = runner.invoke(args=["sweep"])
    assert first.exit_code == 0, first.output
    open_past = [k for k, v in old["sla"].items() if v["state"] == "running" and v["missed"]]
    assert f"L1: {len(open_past)} deadlines escalated" in first.output
    with app.app_context():
        rows = db.session.scalars(
            sa.select(CaseDeadline).where(CaseDeadline.escalated_at.is_not(None))
        ).all()
        assert {r.case_id for r in rows} == {old["id"]}  # not the paused, not the fresh case
        assert all(r.overdue_at is not None for r in rows)
    notes = _notes(app, "supervisor")
    assert len(notes) == 1 and notes[0].params["count"] == len(open_past)
    assert _notes(app, "supervisor2") == []  # another line's supervisor hears nothing
    assert len(smtp_server.messages) == 1
    mail = smtp_server.messages[0]
    assert mail.rcpt_tos == ["supervisor@kesu.invalid"]
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert "华彩涂料" in message["Subject"]
    text = message.get_content()
    assert f"{len(open_past)}" in text and "/cases/?business_line=L1&overdue=true" in text
    second = runner.invoke(args=["sweep"])
    assert "0 deadlines escalated in all" in second.output
    assert len(_notes(app, "supervisor")) == 1 and len(smtp_server.messages) == 1


def test_sweep_as_of_an_earlier_moment_and_from_the_admin_screen(app, api, client, runner):
    from tests.test_screen_rules import login

    case = api("agent").create_case(received_at="2026-11-02T10:00:00")
    due = {k: dt.datetime.fromisoformat(v) for k, v in case["deadlines"].items()}
    as_of = local("2026-11-10T00:00")
    out = runner.invoke(args=["sweep", "--now", as_of.isoformat()])
    early = sum(1 for when in due.values() if when < as_of) - 2  # registered, classified: met
    assert f"L1: {early} deadlines escalated" in out.output
    future = (dt.datetime.now(SH) + dt.timedelta(days=1)).isoformat()
    assert runner.invoke(args=["sweep", "--now", future]).exit_code != 0
    assert runner.invoke(args=["sweep", "--now", "tomorrow"]).exit_code != 0
    assert runner.invoke(args=["sweep", "--now", "2026-11-10T00:00"]).exit_code != 0  # no offset

    def escalated() -> int:
        with app.app_context():
            return db.session.scalar(
                sa.select(sa.func.count())
                .select_from(CaseDeadline)
                .where(CaseDeadline.escalated_at.is_not(None))
            )

    login(client, "supervisor")
    client.post("/sla/sweep")  # not theirs: refused
    assert escalated() == early
    client.get("/logout/")
    login(client, "admin")
    page = client.post("/sla/sweep", follow_redirects=True).get_data(as_text=True)
    rest = sum(1 for when in due.values() if when >= as_of)
    assert f"升级了 {rest} 项时限" in page
    assert escalated() == early + rest


def test_with_no_supervisor_on_the_line_the_escalation_goes_to_the_admins(app, api, runner):
    from core.models import KesuUser

    with app.app_context():
        db.session.execute(
            sa.update(KesuUser).where(KesuUser.username == "supervisor2").values(active=False)
        )
        db.session.commit()
    api("agent2").create_case(
        business_line="L2",
        product="B-200",
        received_at="2026-11-02T10:00:00",
        customer={"name": "成都经销商", "kind": "dealer"},
    )
    assert "L2:" in runner.invoke(args=["sweep"]).output
    assert _notes(app, "supervisor2") == []
    assert len(_notes(app, "admin")) == 1


# -- at-risk customers and attainment -------------------------------------------------------


def test_at_risk_customers_need_three_cases_within_ninety_days(api):
    now = dt.datetime.now(SH).replace(microsecond=0, tzinfo=None)
    for days in (91, 60, 1):
        api("agent").create_case(
            received_at=(now - dt.timedelta(days=days)).isoformat(), customer=new_customer("风险A")
        )
    for days in (89, 30, 1):
        case = api("agent").create_case(
            received_at=(now - dt.timedelta(days=days)).isoformat(), customer=new_customer("风险B")
        )
    listing = api("supervisor").get("/api/v1/sla/at-risk").get_json()["result"]
    assert [(r["name"], r["count"]) for r in listing] == [("风险B", 3)]
    shown = api("agent").get(f"/api/v1/case/{case['id']}").get_json()["result"]
    assert shown["customer_at_risk"] is True and shown["customer_recent_cases"] == 3
    assert api("agent").get("/api/v1/sla/at-risk").status_code == 403
    assert api("supervisor2").get("/api/v1/sla/at-risk").get_json()["result"] == []


def _set(app, case_id: int, name: str, **values) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(CaseDeadline)
            .where(CaseDeadline.case_id == case_id, CaseDeadline.name == name)
            .values(**values)
        )
        keep_next_deadlines()
        db.session.commit()


def test_attainment_on_a_constructed_set_of_cases(app, api):
    """Five October cases of L1: the closed target met on time by one, late by one, still
    open past due by one, still within its deadline by one; one voided (rejected). A
    September case and an L2 case do not count."""
    made = [
        api("agent").create_case(
            received_at=f"2026-10-{day:02d}T10:00:00", customer=new_customer(f"达标{day}")
        )
        for day in (12, 13, 14, 15, 16)
    ]
    outside = api("agent").create_case(
        received_at="2026-09-30T10:00:00", customer=new_customer("九月")
    )
    other = api("agent2").create_case(
        business_line="L2",
        product="B-200",
        received_at="2026-10-12T10:00:00",
        customer={"name": "成都经销商", "kind": "dealer"},
    )
    api("agent").action(made[4]["id"], "reject", comment="不予受理")
    due = local("2026-11-05T18:00")
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    _set(app, made[0]["id"], "closed", state="met", due_at=due, met_at=due - dt.timedelta(hours=1))
    _set(
        app, made[1]["id"], "closed", state="met", due_at=due, met_at=due + dt.timedelta(minutes=90)
    )
    _set(app, made[2]["id"], "closed", state="running", due_at=due, met_at=None)
    _set(app, made[3]["id"], "closed", state="running", due_at=future, met_at=None)
    for c in made[:4]:  # every registration on time but the second
        _set(
            app,
            c["id"],
            "registered",
            met_at=local("2026-10-12T11:00"),
            due_at=local("2026-10-20T18:00"),
        )
    _set(app, made[1]["id"], "registered", due_at=local("2026-10-12T10:30"))
    for c in (outside, other):
        _set(app, c["id"], "closed", state="met", due_at=due, met_at=due + dt.timedelta(days=9))
    resp = api("supervisor").get(
        "/api/v1/sla/attainment?business_line=L1&from=2026-10-01&to=2026-10-31"
    )
    assert resp.status_code == 200, resp.get_json()
    result = {r["name"]: r for r in resp.get_json()["result"]}
    closed = result["closed"]
    assert (closed["on_time"], closed["missed"], closed["pending"]) == (1, 2, 1)
    assert closed["rate"] == 0.3333 and closed["attained"] is False and closed["target"] == 1.0
    assert [c["number"] for c in closed["missed_cases"]] == [made[1]["number"], made[2]["number"]]
    assert closed["missed_cases"][0]["late_minutes"] == 90
    registered = result["registered"]
    # made[4] was registered at intake too (met) and counts; its other deadlines are void.
    assert (registered["on_time"], registered["missed"]) == (3, 2)
    assert registered["rate"] == 0.6 and registered["attained"] is False
    # The other targets ran on their own: every open case of October is past them now.
    for name in ("solution", "compensation_done"):
        row = result[name]
        assert (row["on_time"], row["missed"], row["pending"], row["rate"]) == (0, 4, 0, 0.0)
        assert {c["number"] for c in row["missed_cases"]} == {c["number"] for c in made[:4]}
    bad = api("supervisor").get(
        "/api/v1/sla/attainment?business_line=L1&from=2026-10-31&to=2026-10-01"
    )
    assert bad.status_code == 400 and "to" in bad.get_json()["errors"]
    far = api("supervisor").get(
        "/api/v1/sla/attainment?business_line=L1&from=0001-01-01&to=9999-12-31"
    )
    assert far.status_code == 400 and {"from", "to"} <= set(far.get_json()["errors"])
    bad = api("supervisor").get("/api/v1/sla/attainment?business_line=L1&from=oct&to=2026-10-01")
    assert bad.status_code == 400 and "from" in bad.get_json()["errors"]
    foreign = api("supervisor2").get(
        "/api/v1/sla/attainment?business_line=L1&from=2026-10-01&to=2026-10-31"
    )
    assert foreign.status_code == 400 and "business_line" in foreign.get_json()["errors"]


def test_lists_filter_overdue_and_sort_by_next_deadline(api):
    soon = api("agent").create_case(
        received_at="2026-11-02T10:00:00", customer=new_customer("逾期")
    )
    fresh = api("agent").create_case(customer=new_customer("新案"))
    overdue = api("agent").get("/api/v1/case/?overdue=true").get_json()["result"]
    numbers = [c["number"] for c in overdue]
    assert soon["number"] in numbers and fresh["number"] not in numbers
    by_deadline = api("agent").get("/api/v1/case/?sort=deadline").get_json()["result"]
    order = [c["number"] for c in by_deadline]
    assert order.index(soon["number"]) < order.index(fresh["number"])
    bad = api("agent").get("/api/v1/case/?sort=price")
    assert bad.status_code == 400 and "sort" in bad.get_json()["errors"]


def test_overdue_counts_per_stage_and_department(api):
    case = api("agent").create_case(
        received_at="2026-11-02T10:00:00", customer=new_customer("统计")
    )
    api("agent").action(case["id"], "accept")
    api("supervisor").action(case["id"], "assign", department="QA")
    api("agent").create_case(received_at="2026-11-02T10:00:00", customer=new_customer("统计2"))
    counts = api("manager").get("/api/v1/sla/overdue").get_json()
    assert counts["stage"] == {"investigating": 1, "new": 1}
    assert counts["department"] == {"品保课": 1, "": 1}


def test_sla_settings_are_validated_per_field(app, api):
    from core.services import lines
    from core.services.access import SYSTEM
    from core.services.errors import Invalid

    ctx = app.app_context()
    ctx.push()
    for values, field in (
        ({"sla_reply": "3 days"}, "sla_reply"),
        ({"sla_reply": "P1:24h"}, "sla_reply"),
        ({"work_week": "1111111x"}, "work_week"),
        ({"work_end": "08:00"}, "work_end"),
        ({"repeat_days": "0"}, "repeat_days"),
        ({"p2_claim_amount": "-1"}, "p2_claim_amount"),
    ):
        with pytest.raises(Invalid) as caught:
            lines.update_plugin_settings(SYSTEM, "L1", "kesu_core", values)
        assert field in caught.value.errors, (values, caught.value.errors)
    for values, field in (
        ({"repeat_days": "100000"}, "repeat_days"),
        ({"at_risk_count": "0"}, "at_risk_count"),
        ({"sla_closed": "20000wd"}, "sla_closed"),
        ({"sla_first_response": "15bm, P1:0m"}, "sla_first_response"),
        ({"work_end": "09:01", "sla_closed": "2500bh"}, "sla_closed"),
    ):
        with pytest.raises(Invalid) as caught:
            lines.update_plugin_settings(SYSTEM, "L1", "kesu_core", values)
        assert field in caught.value.errors, (values, caught.value.errors)
    lines.update_plugin_settings(SYSTEM, "L1", "kesu_core", {"sla_reply": "2wd, P1:12h"})
    ctx.pop()
    case = api("agent").create_case(received_at="2026-09-30T10:00:00")
    assert case["deadlines"]["reply"] == "2026-10-09T18:00:00+08:00"


def test_an_escalated_deadline_is_escalated_again_only_once_it_moved_into_the_future(
    app, api, runner
):
    case = api("agent").create_case(received_at="2026-11-02T10:00:00")
    assert "L1:" in runner.invoke(args=["sweep"]).output
    api("agent").action(case["id"], "hold", comment="等待客户")
    api("agent").action(case["id"], "resume")  # a short hold: still long past due
    assert "0 deadlines escalated in all" in runner.invoke(args=["sweep"]).output

    def closed_row():
        with app.app_context():
            return db.session.scalar(
                sa.select(CaseDeadline).where(
                    CaseDeadline.case_id == case["id"], CaseDeadline.name == "closed"
                )
            )

    assert closed_row().escalated_at is not None
    # A longer deadline (a new setting; the line's open cases follow it at once) that has not
    # passed yet is armed again.
    from core.services import lines
    from core.services.access import SYSTEM

    with app.app_context():
        lines.update_plugin_settings(SYSTEM, "L1", "kesu_core", {"sla_closed": "60wd"})
    row = closed_row()
    assert row.due_at > dt.datetime.now(dt.UTC)
    assert row.escalated_at is None and row.overdue_at is None
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.case_id == case["id"])
            .order_by(AuditEvent.id)
        ).all()
    assert events[-1] == "recompute"  # the change shows on the case's timeline


def test_a_customer_who_becomes_a_key_account_raises_its_open_cases(app, api):
    from core.models import Customer
    from core.services import records
    from core.services.access import SYSTEM

    case = api("agent2").create_case(
        business_line="L2", product="B-200", customer={"name": "成都经销商", "kind": "dealer"}
    )
    assert case["priority"] == "P3"
    with app.app_context():
        customer = db.session.scalar(sa.select(Customer).where(Customer.name == "成都经销商"))
        customer.kind = "key_account"
        records.save(SYSTEM, customer, "customer")
    after = api("agent2").get(f"/api/v1/case/{case['id']}").get_json()["result"]
    assert (after["priority"], after["priority_reasons"]) == ("P2", ["key_account"])


def test_attainment_reads_a_paused_deadline_when_its_clock_stopped(app, api):
    """Two September cases on hold since the 20th: one whose closing deadline was still ahead
    when the clock stopped (pending), one already past it (missed)."""
    ahead = api("agent").create_case(
        received_at="2026-09-01T10:00:00", customer=new_customer("甲一")
    )
    behind = api("agent").create_case(
        received_at="2026-09-02T10:00:00", customer=new_customer("乙一")
    )
    for c, due in ((ahead, "2026-09-25T18:00"), (behind, "2026-09-10T18:00")):
        api("agent").action(c["id"], "hold", comment="等待客户")
        with app.app_context():
            db.session.execute(
                sa.update(Case).where(Case.id == c["id"]).values(held_at=local("2026-09-20T10:00"))
            )
            db.session.commit()
        _set(app, c["id"], "closed", due_at=local(due))
    result = (
        api("supervisor")
        .get("/api/v1/sla/attainment?business_line=L1&from=2026-09-01&to=2026-09-05")
        .get_json()["result"]
    )
    closed = next(r for r in result if r["name"] == "closed")
    assert (closed["on_time"], closed["missed"], closed["pending"]) == (0, 1, 1)
    assert [c["number"] for c in closed["missed_cases"]] == [behind["number"]]
    shown = api("agent").get(f"/api/v1/case/{ahead['id']}").get_json()["result"]["sla"]["closed"]
    assert shown["state"] == "paused" and shown["overdue_minutes"] is None
    assert shown["left_minutes"] == (5 * 24 * 60 + 8 * 60)  # from Sep 20 10:00 to Sep 25 18:00


def test_the_sweep_finishes_a_refresh_that_did_not_finish(app, api, runner):
    case = api("agent").create_case(received_at="2026-11-02T10:00:00")
    with app.app_context():  # as if a calendar change committed and its refresh then died
        db.session.execute(
            sa.update(CaseDeadline)
            .where(CaseDeadline.case_id == case["id"], CaseDeadline.name == "closed")
            .values(due_at=local("2030-01-01T18:00"))
        )
        db.session.execute(
            sa.update(BusinessLine)
            .where(BusinessLine.code == "L1")
            .values(sla_refresh_pending=True)
        )
        db.session.commit()
    runner.invoke(args=["sweep"])
    after = api("agent").get(f"/api/v1/case/{case['id']}").get_json()["result"]
    assert after["deadlines"]["closed"] == case["deadlines"]["closed"]  # recomputed
    assert after["sla"]["closed"]["overdue_minutes"] > 0  # and escalated with the rest
    with app.app_context():
        line = db.session.scalar(sa.select(BusinessLine).where(BusinessLine.code == "L1"))
        assert line.sla_refresh_pending is False


def test_a_customer_made_a_key_account_at_intake_raises_its_other_open_cases(api):
    first = api("agent2").create_case(
        business_line="L2", product="B-200", customer={"name": "成都经销商", "kind": "dealer"}
    )
    assert first["priority"] == "P3"
    api("agent2").create_case(
        business_line="L2", product="B-200", customer={"name": "成都经销商", "kind": "key_account"}
    )
    again = api("agent2").get(f"/api/v1/case/{first['id']}").get_json()["result"]
    assert again["priority"] == "P2" and "key_account" in again["priority_reasons"]
