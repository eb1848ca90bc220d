"""Measuring over HTTP: a ``kesu serve`` process and a small client shaped like Flask's test
client (``get`` answering ``status_code``, ``get_json``, ``get_data``), with a cookie jar."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Answer:
    def __init__(self, status: int, body: bytes):
        self.status_code, self.body = status, body

    def get_json(self):
        return json.loads(self.body)

    def get_data(self, as_text: bool = False):
        return self.body.decode("utf-8", "replace") if as_text else self.body


class HttpClient:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def _send(self, req) -> Answer:
        try:
            with self.opener.open(req, timeout=600) as resp:
                return Answer(resp.status, resp.read())
        except urllib.error.HTTPError as err:
            return Answer(err.code, err.read())

    def get(self, path: str, headers: dict | None = None) -> Answer:
        return self._send(urllib.request.Request(self.base + path, headers=headers or {}))

    def post_json(self, path: str, body: dict) -> Answer:
        req = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        return self._send(req)

    def sign_in(self, username: str, password: str) -> None:
        page = self.get("/login/").get_data(as_text=True)
        token = CSRF.search(page)
        form = {"username": username, "password": password}
        if token:
            form["csrf_token"] = token.group(1)
        req = urllib.request.Request(
            self.base + "/login/", data=urllib.parse.urlencode(form).encode(), method="POST"
        )
        answer = self._send(req)
        if answer.status_code != 302:
            raise RuntimeError(f"signing in over HTTP failed: {answer.status_code}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``kesu serve`` (waitress) on a free loopback port against ``database_url``."""

    def __init__(self, instance: Path, database_url: str, secret: str):
        self.instance, self.database_url, self.secret = instance, database_url, secret
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> Server:
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "KESU_INSTANCE_PATH": str(self.instance),
            "KESU_DATABASE_URL": self.database_url,
            "KESU_SECRET_KEY": self.secret,
        }
        self.log = self.instance / "bench-serve.log"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "from core.cli import main; main()", "serve"]
                + ["--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kesu serve exited: {self.log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(self.url + "/login/", timeout=2).close()
                return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"kesu serve did not answer: {self.log.read_text()[-2000:]}")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
