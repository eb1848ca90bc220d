"""Finance export batches: two exports at the same moment never share a line, an export of more
lines than one chunk is whole, and the ``kesu export`` commands (issue 9, section 2)."""

from __future__ import annotations

import hashlib
import os
import pty
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, CompensationLine, ExportBatch, ExportBatchLine
from core.services import finance, finance_blobs
from tests.conftest import SECRET
from tests.finance_helpers import EN_CREDIT, ZH_CREDIT, csv_rows, direct_lines, rows, sheet

EXPORT = "/api/v1/finance/export"
ROOT = Path(__file__).resolve().parents[1]


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


def test_an_export_of_more_lines_than_one_chunk_is_whole(app, api, monkeypatch):
    # Files stored in many small blocks (the real size is 1 MiB), read back whole.
    monkeypatch.setattr(finance_blobs, "BLOCK", 4096)
    lines = direct_lines(app, finance.CHUNK + 150, amount="1.25")
    resp = api("finance").post(EXPORT, json={"kind": "credit_notes", "business_line": "L1"})
    assert resp.status_code == 201, resp.get_json()
    batch = resp.get_json()["result"]
    n = len(lines)
    assert batch["line_count"] == n and Decimal(batch["total"]) == Decimal("1.25") * n
    content = api("finance").get(batch["urls"]["xlsx"]).get_data()
    assert hashlib.sha256(content).hexdigest() == batch["xlsx_sha256"]
    assert len(content) > 10 * finance_blobs.BLOCK
    table = rows(sheet(content))
    assert [r[13] for r in table[1 : n + 1]] == lines  # in case and line order
    assert table[n + 2][9] == float(Decimal("1.25") * n)
    content = api("finance").get(batch["urls"]["csv"]).get_data()
    assert hashlib.sha256(content).hexdigest() == batch["csv_sha256"]
    assert len(csv_rows(content)) == n + 1
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
    direct_lines(app, 1)
    args = ["export", "credit-notes", "--line", "L1", "-o", str(out)]
    bad = runner.invoke(args=[*args, "--lang", "fr"])
    assert bad.exit_code != 0 and "--lang" in bad.output
    result = runner.invoke(args=[*args, "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert csv_rows(out.read_bytes())[0] == EN_CREDIT
    with app.app_context():
        assert (
            db.session.scalar(sa.select(ExportBatch.locale).order_by(ExportBatch.id.desc())) == "en"
        )


def test_cli_shows_a_progress_bar_on_a_terminal(app, tmp_path):
    """``kesu export`` in a real process whose output is a terminal (a pseudo-terminal)."""
    direct_lines(app, 30)
    out = tmp_path / "credit.csv"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "KESU_INSTANCE_PATH": app.instance_path,
        "KESU_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "KESU_SECRET_KEY": SECRET,
        "KESU_UPLOAD_DIR": app.config["KESU_UPLOAD_DIR"],
    }
    command = "from core.cli import main; main()"
    args = ["export", "credit-notes", "--line", "L1", "-o", str(out)]
    master, terminal = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", command, *args], env=env, stdout=terminal, stderr=terminal
        )
        os.close(terminal)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal closed: the process is gone
                break
            if not chunk:
                break
            seen += chunk
        assert proc.wait(timeout=120) == 0, seen
    finally:
        os.close(master)
    text = seen.decode(errors="replace")
    assert "Exporting" in text and "100%" in text, text
    assert "FX-" in text and len(csv_rows(out.read_bytes())) == 31
    # The same command into a pipe: the result line only, no bar.
    piped = subprocess.run(
        [sys.executable, "-c", command, *args], env=env, capture_output=True, timeout=120
    )
    assert piped.returncode == 1 and b"nothing_to_export" in piped.stderr
    direct_lines(app, 3)
    piped = subprocess.run(
        [sys.executable, "-c", command, *args], env=env, capture_output=True, timeout=120
    )
    assert piped.returncode == 0, piped.stderr
    assert b"Exporting" not in piped.stdout + piped.stderr and b"FX-" in piped.stdout


def test_the_demo_has_lines_ready_for_both_lists(tmp_path):
    from core.app import create_app
    from core.services.access import SYSTEM

    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        for kind in finance.LISTS:
            assert finance.pending(SYSTEM, kind, "HUACAI").count > 0, kind
    out = tmp_path / "reship.xlsx"
    result = runner.invoke(args=["export", "reshipments", "--line", "HUACAI", "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = rows(sheet(out.read_bytes()))
    phones = [r[3] for r in table[1:] if r[12] is not None]  # the lines, not the totals
    assert phones and all(p.isdigit() and len(p) == 11 for p in phones)  # unmasked
