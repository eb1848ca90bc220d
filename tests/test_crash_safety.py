"""Crash safety (issue 8, check 7): SIGKILL real servers in the middle of a stream of writes.

Two ``kesu serve`` processes take a stream of case registrations (half with a new customer)
and evidence uploads from several threads; after a number of answers every server process is
killed with SIGKILL, whatever it is doing. After a restart:

- every case that exists is whole (its number, its customer, its audit event) and every case
  the servers acknowledged exists; a new customer exists only with its case;
- numbers stay gap-free per month;
- every evidence row has its file (same size and SHA-256) and its audit event;
- ``kesu cleanup-uploads --older-than-minutes 0`` leaves no file without a row and removes no
  file a row refers to (the restart's own cleanup keeps young files: uploads may be in flight);
- ``kesu audit verify`` passes, and the restarted server registers the next case.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import PASSWORD, case_body
from tests.procserver import ProcServers
from tests.test_evidence import PNG

THREADS = 6
KILL_AFTER = 24  # answers received before the kill
STREAM_DEADLINE = 180  # seconds; the stream never runs unbounded
FILE = PNG + b"\x00" * (256 * 1024)  # big enough that a kill can land mid-write
# A killed server: refused or reset connections, or an answer cut off mid-body.
SERVER_GONE = (OSError, http.client.HTTPException)


def _request(url: str, *, token: str | None = None, body=None, headers=None, timeout=60):
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if isinstance(body, dict):
        body = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _login(base: str, username: str) -> str:
    status, body = _request(
        base + "/api/v1/security/login",
        body={"username": username, "password": PASSWORD, "provider": "db"},
    )
    assert status == 200, body
    return json.loads(body)["access_token"]


def _multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Stream:
    """Threads registering cases and uploading evidence until told to stop."""

    def __init__(self, urls: list[str], token: str, tag: str):
        self.urls = urls
        self.token = token
        self.tag = tag
        self.lock = threading.Lock()
        self.answers = 0
        self.stop = threading.Event()
        self.created: dict[int, str] = {}  # case id -> customer name sent
        self.uploaded: dict[int, str] = {}  # evidence id -> sha256
        self.new_customers: set[str] = set()
        self.unexpected: list[str] = []

    def _count(self) -> None:
        with self.lock:
            self.answers += 1

    def worker(self, index: int) -> None:
        base = self.urls[index % len(self.urls)]
        seq = 0
        while not self.stop.is_set():
            seq += 1
            new = seq % 2 == 0
            name = f"crash-{self.tag}-{index}-{seq}" if new else "上海经销商"
            customer = {"name": name, "kind": "dealer"}
            if new:
                customer["phone"] = "13800000000"
                with self.lock:
                    self.new_customers.add(name)
            try:
                status, body = _request(
                    base + "/api/v1/case/", token=self.token, body=case_body(customer=customer)
                )
            except SERVER_GONE:
                return  # the server is gone
            self._count()
            if status == 503:
                continue  # busy: retryable, nothing stored
            if status != 201:
                self.unexpected.append(f"create {status} {body[:200]!r}")
                return
            case_id = json.loads(body)["id"]
            with self.lock:
                self.created[case_id] = name
            data, content_type = _multipart({"kind": "document"}, f"现场{seq}.png", FILE)
            try:
                status, body = _request(
                    f"{base}/api/v1/case/{case_id}/evidence",
                    token=self.token,
                    body=data,
                    headers={"Content-Type": content_type},
                )
            except SERVER_GONE:
                return
            self._count()
            if status == 503:
                continue
            if status != 201:
                self.unexpected.append(f"upload {status} {body[:200]!r}")
                return
            with self.lock:
                self.uploaded[json.loads(body)["id"]] = hashlib.sha256(FILE).hexdigest()

    def run_until_killed(self, servers: ProcServers) -> None:
        threads = [
            threading.Thread(target=self.worker, args=(i,), daemon=True) for i in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + STREAM_DEADLINE
        while self.answers < KILL_AFTER and time.monotonic() < deadline and not self.unexpected:
            time.sleep(0.01)
        servers.kill()  # SIGKILL, with requests in flight
        self.stop.set()
        for thread in threads:
            thread.join(timeout=90)
        assert not self.unexpected, self.unexpected
        assert self.answers >= KILL_AFTER, f"only {self.answers} answers before the deadline"


def _check_whole(engine: sa.Engine, stream: Stream) -> dict[str, tuple[str, int, str]]:
    """Assert every case and evidence row is whole; return stored files (key -> (sha, size))."""
    with engine.connect() as con:
        cases = con.execute(
            sa.text(
                "SELECT c.id, c.number, c.customer_id, cu.name FROM kesu_case c "
                "LEFT JOIN customer cu ON cu.id = c.customer_id"
            )
        ).all()
        created = {
            row.case_id
            for row in con.execute(
                sa.text(
                    "SELECT case_id FROM audit_event WHERE entity = 'case' AND action = 'create'"
                )
            )
        }
        customers = set(con.execute(sa.text("SELECT name FROM customer")).scalars())
        counters = dict(con.execute(sa.text("SELECT period, last FROM case_counter")).all())
        evidence = con.execute(
            sa.text("SELECT id, case_id, storage_key, size, sha256 FROM evidence")
        ).all()
        uploads = {
            row.entity_id
            for row in con.execute(
                sa.text(
                    "SELECT entity_id FROM audit_event "
                    "WHERE entity = 'evidence' AND action = 'upload'"
                )
            )
        }
    by_id = {row.id: row for row in cases}
    # Every acknowledged case survived the kill; every case is whole.
    assert set(stream.created) <= set(by_id)
    for row in cases:
        assert row.number, row
        assert row.name is not None, f"case {row.id} has no customer"
        assert row.id in created, f"case {row.id} has no audit event"
    # A new customer exists only together with its case (no half registration).
    case_customers = {row.name for row in cases}
    for name in stream.new_customers & customers:
        assert name in case_customers, f"customer {name} was stored without its case"
    # Numbers stay gap-free: each month's counter ends at its last number.
    periods: dict[str, list[int]] = {}
    for row in cases:
        _, period, seq = row.number.split("-")
        periods.setdefault(period, []).append(int(seq))
    for period, seqs in periods.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), period
        assert counters[period] == len(seqs), period
    # Every acknowledged upload survived; every evidence row is whole.
    rows = {row.id: row for row in evidence}
    assert set(stream.uploaded) <= set(rows)
    for ev_id, sha in stream.uploaded.items():
        assert rows[ev_id].sha256 == sha
    for row in evidence:
        assert row.case_id in by_id and row.id in uploads, row
    return {row.storage_key: (row.sha256, row.size) for row in evidence}


def _stored_files(instance: Path) -> dict[str, Path]:
    root = instance / "uploads"
    return {p.name: p for p in root.rglob("*") if p.is_file()} if root.exists() else {}


def test_sigkill_mid_writes_leaves_whole_records_and_no_orphans(served_db):
    instance, url = served_db
    servers = ProcServers(instance, url, count=2).start()
    try:
        token = _login(servers.urls[0], "agent")
        stream = Stream(list(servers.urls), token, uuid.uuid4().hex[:6])
        stream.run_until_killed(servers)
    finally:
        servers.kill()
    assert stream.created, "no case was registered before the kill"

    # A file written just before a crash, whose row was never committed.
    planted_key = uuid.uuid4().hex
    planted = instance / "uploads" / planted_key[:2] / planted_key
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_bytes(b"written, never committed")

    with ProcServers(instance, url, count=1) as again:
        # The restart's own cleanup keeps young files: an upload may be in flight.
        assert planted.exists()
        token = _login(again.urls[0], "agent")
        for case_id in list(stream.created)[:3]:
            status, body = _request(f"{again.urls[0]}/api/v1/case/{case_id}", token=token)
            assert status == 200, body
        engine = sa.create_engine(url)
        try:
            referenced = _check_whole(engine, stream)
        finally:
            engine.dispose()

        result = again.kesu("cleanup-uploads", "--older-than-minutes", "0")
        assert "orphan" in result.stdout
        files = _stored_files(instance)
        assert set(files) == set(referenced), "orphans left, or referenced files removed"
        for key, (sha, size) in referenced.items():
            data = files[key].read_bytes()
            assert len(data) == size and hashlib.sha256(data).hexdigest() == sha, key

        verify = again.kesu("audit", "verify", check=False)
        assert verify.returncode == 0, verify.stdout + verify.stderr

        status, body = _request(again.urls[0] + "/api/v1/case/", token=token, body=case_body())
        assert status == 201, body
