"""Finance export batches: two exports at the same moment never share a line, an export of more
lines than one chunk is whole, and the ``kesu export`` commands (issue 9, section 2)."""

from __future__ import annotations

import threading
from decimal import Decimal

import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, CompensationLine, ExportBatch, ExportBatchLine
from core.services import finance
from tests.finance_helpers import EN_CREDIT, ZH_CREDIT, csv_rows, direct_lines, rows, sheet

EXPORT = "/api/v1/finance/export"


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_two_exports_at_the_same_moment_never_share_a_line(app, api):
    headers = {user: api(user).headers for user in ("finance", "admin")}
    taken: set[int] = set()
    for attempt in range(3):
        lines = set(direct_lines(app, 40))
        answers: dict[str, tuple[int, dict]] = {}
        start = threading.Barrier(2)

        def run(user: str, start=start, answers=answers) -> None:
            client = app.test_client()
            start.wait()
            resp = client.post(
                EXPORT,
                json={"kind": "credit_notes", "business_line": "L1"},
                headers=headers[user],
            )
            answers[user] = (resp.status_code, resp.get_json())

        threads = [threading.Thread(target=run, args=(user,)) for user in headers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(status for status, _ in answers.values())
        assert statuses == [201, 422], (attempt, answers)
        winner = next(body for status, body in answers.values() if status == 201)
        loser = next(body for status, body in answers.values() if status == 422)
        assert loser["problems"][0]["code"] == "nothing_to_export"
        assert winner["result"]["line_count"] == 40
        with app.app_context():
            in_batch = set(
                db.session.scalars(
                    sa.select(ExportBatchLine.line_id).where(
                        ExportBatchLine.batch_id == winner["id"]
                    )
                )
            )
        assert in_batch == lines and not in_batch & taken
        taken |= in_batch
    with app.app_context():
        assert count(ExportBatch) == 3
        # No line in two batches, and every line marked with the batch that holds it.
        shared = db.session.execute(
            sa.select(ExportBatchLine.line_id)
            .group_by(ExportBatchLine.line_id)
            .having(sa.func.count() > 1)
        ).all()
        assert shared == []
        unmarked = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(CompensationLine)
            .where(CompensationLine.batch_id.is_(None))
        )
        assert unmarked == 0
        numbers = sorted(db.session.scalars(sa.select(ExportBatch.number)))
    assert [n[-4:] for n in numbers] == ["0001", "0002", "0003"]


def test_an_export_of_more_lines_than_one_chunk_is_whole(app, api):
    lines = direct_lines(app, finance.CHUNK + 150, amount="1.25")
    resp = api("finance").post(EXPORT, json={"kind": "credit_notes", "business_line": "L1"})
    assert resp.status_code == 201, resp.get_json()
    batch = resp.get_json()["result"]
    n = len(lines)
    assert batch["line_count"] == n and Decimal(batch["total"]) == Decimal("1.25") * n
    table = rows(sheet(api("finance").get(batch["urls"]["xlsx"]).get_data()))
    assert [r[13] for r in table[1 : n + 1]] == lines  # in case and line order
    assert table[n + 2][9] == float(Decimal("1.25") * n)
    assert len(csv_rows(api("finance").get(batch["urls"]["csv"]).get_data())) == n + 1
    with app.app_context():
        assert count(ExportBatchLine) == n
        marked = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(CompensationLine)
            .where(CompensationLine.batch_id == batch["id"])
        )
        assert marked == n
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "export_created")
        )
        assert sorted(event.changes["lines"]) == lines and event.changes["total"] == batch["total"]
    resp = api("finance").post(f"{EXPORT}/{batch['id']}/void", json={"reason": "重做"})
    assert resp.status_code == 200
    with app.app_context():
        released = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(CompensationLine)
            .where(CompensationLine.batch_id.is_(None))
        )
        assert released == n and count(ExportBatchLine) == n  # history stays


# -- the kesu export commands ----------------------------------------------------------------


def test_cli_exports_lists_and_downloads(app, runner, tmp_path):
    lines = direct_lines(app, 3)
    out = tmp_path / "credit.xlsx"
    result = runner.invoke(args=["export", "credit-notes", "--line", "L1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Exporting" not in result.output  # no progress bar when stdout is not a terminal
    number = result.output.split()[0]
    assert number.startswith("FX-") and number.endswith("-0001")
    table = rows(sheet(out.read_bytes()))
    assert table[0] == ZH_CREDIT  # the system's default language
    assert [r[13] for r in table[1:4]] == lines
    with app.app_context():
        batch = db.session.scalar(sa.select(ExportBatch))
        assert batch.created_by is None and batch.xlsx == out.read_bytes()
        stored_csv = batch.csv

    listed = runner.invoke(args=["export", "list", "--line", "L1"])
    assert listed.exit_code == 0 and number in listed.output and "credit_notes" in listed.output
    copy = tmp_path / "again.csv"
    result = runner.invoke(args=["export", "download", number, "-o", str(copy)])
    assert result.exit_code == 0, result.output
    assert copy.read_bytes() == stored_csv
    assert csv_rows(copy.read_bytes())[0] == ZH_CREDIT

    nothing = runner.invoke(args=["export", "credit-notes", "--line", "L1", "-o", str(out)])
    assert nothing.exit_code != 0 and "nothing_to_export" in nothing.output
    bad = runner.invoke(args=["export", "reshipments", "--line", "L1", "-o", "x.pdf"])
    assert bad.exit_code != 0 and ".xlsx or .csv" in bad.output
    bad = runner.invoke(
        args=["export", "credit-notes", "--line", "L1", "--from", "2026-02-30", "-o", str(out)]
    )
    assert bad.exit_code != 0 and "approved_from" in bad.output
    unknown = runner.invoke(args=["export", "download", "FX-000000-0000", "-o", str(copy)])
    assert unknown.exit_code != 0
    assert runner.invoke(args=["export", "list", "--line", "NOPE"]).exit_code != 0


def test_cli_export_in_a_period_and_in_english(app, runner, tmp_path):
    direct_lines(app, 2, kind="reship")
    out = tmp_path / "reship.csv"
    args = ["export", "reshipments", "--line", "L1", "--from", "2000-01-01", "-o", str(out)]
    result = runner.invoke(args=[*args, "--to", "2000-12-31"])
    assert result.exit_code != 0 and "nothing_to_export" in result.output
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert len(csv_rows(out.read_bytes())) == 3
    with app.app_context():
        app.config["BABEL_DEFAULT_LOCALE"] = "en"
        direct_lines(app, 1)
        result = runner.invoke(args=["export", "credit-notes", "--line", "L1", "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert csv_rows(out.read_bytes())[0] == EN_CREDIT
