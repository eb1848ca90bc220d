"""Real server processes for tests that need more than one process or a real crash.

``ProcServers`` starts ``kesu serve`` (waitress) in separate operating-system processes against
one database, the way a production install runs several workers behind a proxy. Tests use it
for concurrency across processes and for SIGKILL mid-write; everything else uses the in-process
``client`` fixture.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import PASSWORD, SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ProcServers:
    """``count`` ``kesu serve`` processes on free loopback ports, sharing ``database_url``."""

    def __init__(self, instance: Path, database_url: str, count: int = 2, threads: int = 8):
        self.instance = Path(instance)
        self.database_url = database_url
        self.count = count
        self.threads = threads
        self.procs: list[subprocess.Popen] = []
        self.urls: list[str] = []
        self.logs: list[Path] = []

    @property
    def env(self) -> dict[str, str]:
        root = str(Path(__file__).resolve().parent.parent)
        return {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
            "KESU_INSTANCE_PATH": str(self.instance),
            "KESU_DATABASE_URL": self.database_url,
            "KESU_SECRET_KEY": SECRET,
            "KESU_UPLOAD_DIR": str(self.instance / "uploads"),
        }

    def kesu(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run a ``kesu`` command against the same instance and database."""
        return subprocess.run(
            [sys.executable, "-c", "from core.cli import main; main()", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=check,
        )

    def start(self) -> ProcServers:
        self.instance.mkdir(parents=True, exist_ok=True)
        for index in range(self.count):
            port = free_port()
            log = self.instance / f"server-{index}.log"
            with log.open("ab") as out:
                proc = subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        "from core.cli import main; main()",
                        "serve",
                        "--port",
                        str(port),
                        "--threads",
                        str(self.threads),
                    ],
                    env=self.env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self.procs.append(proc)
            self.urls.append(f"http://127.0.0.1:{port}")
            self.logs.append(log)
        for url, proc, log in zip(self.urls, self.procs, self.logs, strict=True):
            self._wait_ready(url, proc, log)
        return self

    @staticmethod
    def _wait_ready(url: str, proc: subprocess.Popen, log: Path) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(url + "/login/", timeout=2).close()
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"server at {url} did not answer: {log.read_text()[-2000:]}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to every server process and reap them."""
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, sig)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        self.procs.clear()
        self.urls.clear()
        self.logs.clear()

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def __enter__(self) -> ProcServers:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def call(url: str, method: str = "GET", body=None, token: str | None = None, headers=None):
    """One HTTP request: (status, parsed JSON body or None, response headers)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            status, raw, got = resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        status, raw, got = err.code, err.read(), dict(err.headers)
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return status, parsed, got


def login(base: str, username: str, password: str = PASSWORD) -> str:
    """A JWT for ``username`` from a server at ``base``."""
    status, body, _ = call(
        base + "/api/v1/security/login",
        "POST",
        {"username": username, "password": password, "provider": "db"},
    )
    assert status == 200, body
    return body["access_token"]
