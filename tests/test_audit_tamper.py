"""Tampering with the audit trail: the database refuses it, and the anchors kept outside the
database expose whoever gets past that (an attacker who can drop the triggers).

Each tamper test acts as such an attacker: ``drop_audit_guards`` first, then the change.
"""

from __future__ import annotations

import os
import threading

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditChainHead, AuditEvent
from core.services import audit
from tests.audit_helpers import drop_audit_guards
from tests.audit_helpers import events as _events
from tests.test_screen_rules import login


def _cases(api, n: int) -> None:
    for _ in range(n):
        api("agent").create_case()


def _anchor(runner) -> str:
    result = runner.invoke(args=["audit", "anchor"])
    assert result.exit_code == 0, result.output
    return result.output


def _verify(runner):
    return runner.invoke(args=["audit", "verify"])


def _anchor_lines(app) -> list[str]:
    with open(app.config["KESU_AUDIT_ANCHOR_FILE"], encoding="utf-8") as fh:
        return fh.read().splitlines()


def _broken(runner, *words: str) -> str:
    result = _verify(runner)
    assert result.exit_code == 1, result.output
    assert "BROKEN" in result.output
    for word in words:
        assert word in result.output
    return result.output


# -- the database refuses changes ----------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        sa.update(AuditEvent).values(actor="mallory"),
        sa.delete(AuditEvent),
    ],
    ids=["update", "delete"],
)
def test_database_refuses_update_and_delete_of_audit_events(app, api, statement):
    _cases(api, 1)
    before = _events(app)
    with app.app_context():
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with db.engine.begin() as con:
                con.execute(statement.where(AuditEvent.id == before[-1].id))
        if db.engine.dialect.name == "postgresql":  # TRUNCATE skips row triggers
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                with db.engine.begin() as con:
                    con.execute(sa.text("TRUNCATE audit_event"))
        assert audit.verify().ok
    after = _events(app)
    assert [(e.id, e.actor, e.hash) for e in after] == [(e.id, e.actor, e.hash) for e in before]
    _cases(api, 1)  # writing the trail goes on: events are inserted once, never updated
    assert len(_events(app)) > len(before)


# -- anchors --------------------------------------------------------------------------------------


def test_anchor_is_a_signed_line_in_a_private_append_only_file(app, api, runner):
    _cases(api, 2)
    first = _anchor(runner)
    events = _events(app)
    path = app.config["KESU_AUDIT_ANCHOR_FILE"]
    assert os.stat(path).st_mode & 0o777 == 0o600
    key_file = os.path.join(app.instance_path, "audit_key")
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    (line,) = _anchor_lines(app)
    assert line in first  # also printed (and logged) for cron to keep
    assert f"seq={len(events)} event={events[-1].id} hash={events[-1].hash}" in line
    assert " hmac=" in line
    _cases(api, 1)
    _anchor(runner)
    assert len(_anchor_lines(app)) == 2 and _anchor_lines(app)[0] == line


def test_verify_passes_on_an_untouched_chain_and_after_events_past_the_anchor(app, api, runner):
    _cases(api, 2)
    _anchor(runner)
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "1 anchor." in result.output
    _cases(api, 3)  # new events after the anchor
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert f"{len(_events(app))} events" in result.output
    _anchor(runner)
    assert _verify(runner).exit_code == 0


def test_a_removed_anchor_file_fails_while_the_key_remains(app, api, runner):
    _cases(api, 1)
    _anchor(runner)
    os.remove(app.config["KESU_AUDIT_ANCHOR_FILE"])
    _broken(runner, "anchors were removed")
    for args in (["sweep"], ["audit", "anchor"]):  # nor is the chain anchored afresh unseen
        result = runner.invoke(args=args)
        assert result.exit_code == 1 and "anchors were removed" in result.output
    result = runner.invoke(args=["audit", "anchor", "--restart"])  # an administrator's choice
    assert result.exit_code == 0, result.output
    assert _verify(runner).exit_code == 0


def test_anchor_lines_copied_from_the_log_are_checked(app, api, runner, tmp_path):
    _cases(api, 2)
    _anchor(runner)
    (line,) = _anchor_lines(app)
    copy = tmp_path / "from-log-host.log"
    copy.write_text(f"Dec  2 13:00:01 kesu-host kesu.audit: {line}\n", encoding="utf-8")
    result = runner.invoke(args=["audit", "verify", "--anchor-file", str(copy)])
    assert result.exit_code == 0, result.output
    assert "1 anchor." in result.output
    copy.write_text("Dec  2 13:00:01 kesu-host something else\n", encoding="utf-8")
    result = runner.invoke(args=["audit", "verify", "--anchor-file", str(copy)])
    assert result.exit_code == 1 and "not an anchor" in result.output


def test_an_altered_anchor_line_or_another_key_fails(app, api, runner, client):
    _cases(api, 2)
    _anchor(runner)
    path = app.config["KESU_AUDIT_ANCHOR_FILE"]
    (line,) = _anchor_lines(app)
    seq = line.split("seq=")[1].split()[0]
    with open(path, "w", encoding="utf-8") as fh:  # claim a shorter chain was anchored
        fh.write(line.replace(f"seq={seq} ", f"seq={int(seq) - 1} ") + "\n")
    _broken(runner, "signature")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(line + "\n")
    assert _verify(runner).exit_code == 0
    app.config["KESU_AUDIT_KEY"] = "another-key-of-enough-length"
    _broken(runner, "signature")
    login(client, "auditor")  # the screen's check reads the anchors too
    page = client.post("/audit/verify").get_data(as_text=True)
    assert "与保存在数据库之外的锚点不符" in page


def test_audit_key_is_created_once_by_concurrent_processes(app):
    from core.services import audit_anchor

    keys, errors = [], []
    start = threading.Barrier(8)

    def make():
        try:
            with app.app_context():
                start.wait()
                keys.append(audit_anchor._key(create=True))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=make) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    assert len(set(keys)) == 1 and len(keys[0]) >= audit_anchor.MIN_KEY_LENGTH
    leftovers = [n for n in os.listdir(app.instance_path) if n.startswith(".audit_key")]
    assert leftovers == []


# -- tampering with the chain ---------------------------------------------------------------------


def test_changed_event_is_detected(app, api, runner):
    _cases(api, 3)
    _anchor(runner)
    target = _events(app)[-3]
    drop_audit_guards(app)
    with app.app_context():
        db.session.execute(
            sa.update(AuditEvent).where(AuditEvent.id == target.id).values(actor="mallory")
        )
        db.session.commit()
    _broken(runner, f"event {target.id}", "content")


def test_deleted_middle_event_is_detected(app, api, runner):
    _cases(api, 3)
    _anchor(runner)
    rows = _events(app)
    middle = rows[len(rows) // 2]
    drop_audit_guards(app)
    with app.app_context():
        db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id == middle.id))
        db.session.commit()
    _broken(runner, f"event {rows[len(rows) // 2 + 1].id}")


def test_removed_last_events_and_head_row_are_detected(app, api, runner):
    """The defect: deleting the chain head row and the last events passed ``verify``."""
    _cases(api, 3)
    rows = _events(app)
    drop_audit_guards(app)
    with app.app_context():
        db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id > rows[-3].id))
        db.session.execute(sa.delete(AuditChainHead))
        db.session.commit()
    _broken(runner, "head row is missing")


def test_truncation_with_a_fixed_head_is_caught_by_the_anchor(app, api, runner):
    _cases(api, 3)
    _anchor(runner)
    rows = _events(app)
    keep = rows[-3]
    drop_audit_guards(app)
    with app.app_context():
        db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id > keep.id))
        db.session.execute(
            sa.update(AuditChainHead).values(last_event_id=keep.id, last_hash=keep.hash)
        )
        db.session.commit()
        assert audit.verify().ok  # the chain alone looks whole
    _broken(runner, f"{len(rows) - 2} events", f"recorded {len(rows)}", "removed from its end")
    # The screen's check holds the chain against the anchors too.
    from core.services import audit_anchor

    with app.app_context():
        assert not audit_anchor.verify_anchored().result.ok
    # A chain that does not extend the last anchor is never anchored (nor by the sweep).
    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 1 and "NOT written" in result.output
    assert len(_anchor_lines(app)) == 1


def test_rewritten_and_rehashed_chain_is_caught_by_the_anchor(app, api, runner):
    _cases(api, 3)
    _anchor(runner)
    drop_audit_guards(app)
    with app.app_context():
        rows = list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))
        rows[1].actor = "mallory"
        prev = rows[0].hash
        for event in rows[1:]:
            event.prev_hash = prev
            event.hash = prev = audit.chain_hash(prev, event)
            db.session.flush()
        head = db.session.get(AuditChainHead, 1)
        head.last_hash = prev
        db.session.commit()
        assert audit.verify().ok  # re-hashed: the chain alone looks whole
    _broken(runner, "re-hashed")


def test_sweep_anchors_the_chain(app, api, runner):
    _cases(api, 1)
    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0, result.output
    (line,) = _anchor_lines(app)
    assert line in result.output
    assert f"hash={_events(app)[-1].hash}" in line
