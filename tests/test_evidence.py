"""Evidence uploads: type checks, storage, the case's access rule on download."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, Evidence

# A real 1x1 PNG, a minimal MP4 header and a minimal PDF.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload(agent, case_id, content, filename="photo.png", **form):
    data = {"file": (io.BytesIO(content), filename), "kind": "photo", **form}
    return agent.post(
        f"/api/v1/case/{case_id}/evidence", data=data, content_type="multipart/form-data"
    )


def test_upload_and_download(app, api):
    agent = api("agent")
    case = agent.create_case()
    resp = upload(
        agent, case["id"], PNG, source="微信：经销商张三", received_at="2026-11-20T08:00:00"
    )
    assert resp.status_code == 201, resp.get_json()
    ev = resp.get_json()["result"]
    assert ev["kind"] == "photo" and ev["content_type"] == "image/png"
    assert ev["source"] == "微信：经销商张三"
    assert ev["received_at"] == "2026-11-20T08:00:00+08:00"
    assert ev["sha256"] == hashlib.sha256(PNG).hexdigest()
    got = agent.get(ev["url"])
    assert got.status_code == 200
    assert got.data == PNG
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in got.headers["Content-Disposition"]
    got.close()
    with app.app_context():
        stored = db.session.get(Evidence, ev["id"])
        path = Path(app.config["KESU_UPLOAD_DIR"]) / stored.storage_key[:2] / stored.storage_key
        assert path.read_bytes() == PNG
        assert not str(path).startswith(str(Path(app.static_folder)))
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "upload"))
        assert event.case_id == case["id"] and event.changes["kind"] == [None, "photo"]
    listed = agent.get(f"/api/v1/case/{case['id']}").get_json()["result"]["evidence"]
    assert [e["id"] for e in listed] == [ev["id"]]


@pytest.mark.parametrize(
    ("kind", "content", "filename", "ok"),
    [
        ("photo", PNG, "a.png", True),
        ("video", PNG, "a.png", False),
        ("video", MP4, "a.mp4", True),
        ("photo", PDF, "a.pdf", False),
        ("delivery_note", PDF, "note.pdf", True),
        ("document", b"plain words", "notes.txt", True),
        ("photo", b"not an image at all", "fake.png", False),
    ],
)
def test_kind_must_match_the_content(api, kind, content, filename, ok):
    agent = api("agent")
    case = agent.create_case()
    resp = upload(agent, case["id"], content, filename, kind=kind)
    if ok:
        assert resp.status_code == 201, resp.get_json()
    else:
        assert resp.status_code == 400
        assert "file" in resp.get_json()["errors"]


@pytest.mark.parametrize(
    ("form", "field"),
    [({"kind": "selfie"}, "kind"), ({"received_at": "later"}, "received_at")],
)
def test_bad_upload_fields(app, api, form, field):
    agent = api("agent")
    case = agent.create_case()
    resp = upload(agent, case["id"], PNG, **form)
    assert resp.status_code == 400
    assert field in resp.get_json()["errors"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 0
    assert not list(Path(app.config["KESU_UPLOAD_DIR"]).rglob("*")) or all(
        p.is_dir() for p in Path(app.config["KESU_UPLOAD_DIR"]).rglob("*")
    )


def test_missing_and_empty_file(api):
    agent = api("agent")
    case = agent.create_case()
    resp = agent.post(
        f"/api/v1/case/{case['id']}/evidence",
        data={"kind": "photo"},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400 and "file" in resp.get_json()["errors"]
    resp = upload(agent, case["id"], b"")
    assert resp.status_code == 400 and "file" in resp.get_json()["errors"]


def test_too_large_upload_is_413(tmp_path, template_db):
    from tests.conftest import Api, make_app

    app = make_app(tmp_path, template_db, MAX_CONTENT_LENGTH=1024)
    agent = Api(app.test_client(), "agent")
    case = agent.create_case()
    resp = upload(agent, case["id"], PNG + b"\x00" * 2048)
    assert resp.status_code == 413
    assert "file" in resp.get_json()["errors"]


def test_file_is_removed_when_the_upload_is_refused(app, api):
    agent = api("agent")
    case = agent.create_case()
    agent.action(case["id"], "reject", comment="不予受理")
    resp = upload(agent, case["id"], PNG)
    assert resp.status_code == 409
    files = [p for p in Path(app.config["KESU_UPLOAD_DIR"]).rglob("*") if p.is_file()]
    assert files == []


def test_role_without_upload_is_403(api):
    case = api("agent").create_case()
    assert upload(api("finance"), case["id"], PNG).status_code == 403
