"""``kesu serve --workers N``: several preloaded gunicorn workers over one database, and
waitress where gunicorn cannot run.

Which worker answers a request is not visible from outside, so a test makes it so: every
worker but one is stopped (SIGSTOP) while the requests run, and only that one can accept them.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from core.app import create_app
from core.serving import gunicorn_available
from tests.conftest import PASSWORD, SECRET
from tests.procserver import call, free_port, login

LINUX = sys.platform.startswith("linux")
needs_gunicorn = pytest.mark.skipif(
    not (LINUX and gunicorn_available()), reason="gunicorn on Linux (/proc) only"
)
KESU = "from core.cli import main; main()"
# Honestly unavailable: Python's import system refuses a module set to None in sys.modules.
KESU_WITHOUT_GUNICORN = "import sys; sys.modules['gunicorn'] = None; " + KESU


def kesu_env(instance: Path, database_url: str) -> dict[str, str]:
    root = str(Path(__file__).resolve().parent.parent)
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
        "KESU_INSTANCE_PATH": str(instance),
        "KESU_DATABASE_URL": database_url,
        # No KESU_SECRET_KEY: the key generated once into the instance folder is everyone's.
        "KESU_UPLOAD_DIR": str(instance / "uploads"),
    }


def start(instance: Path, database_url: str, code: str, *args: str):
    port = free_port()
    log = instance / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, "serve", "--port", str(port), *args],
            env=kesu_env(instance, database_url),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            urllib.request.urlopen(base + "/login/", timeout=5).close()
            return proc, base, log
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise AssertionError(f"kesu serve did not answer: {log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        raise


def children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.add(int(entry.name))
    return found


def wait_for_workers(master: int, count: int, gone: set[int] = frozenset()) -> list[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = children(master)
        if len(workers) == count and not workers & gone:
            return sorted(workers)
        time.sleep(0.2)
    raise AssertionError(f"expected {count} workers of {master}, found {children(master)}")


def database_handles(pid: int, database_url: str) -> list[str]:
    """What process ``pid`` holds open of the database: the SQLite file, or TCP connections
    to the PostgreSQL server's port (from /proc)."""
    url = sa.engine.make_url(database_url)
    fds = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            fds.append(os.readlink(fd))
    if url.drivername.startswith("sqlite"):
        return [target for target in fds if target.startswith(str(url.database))]
    sockets = {t[len("socket:[") : -1] for t in fds if t.startswith("socket:[")}
    held = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == (url.port or 5432) and fields[9] in sockets:
                held.append(row)
    return held


@contextlib.contextmanager
def only(worker: int, workers: list[int]):
    """Keep every worker but ``worker`` stopped: only it accepts connections meanwhile."""
    others = [w for w in workers if w != worker]
    for other in others:
        os.kill(other, signal.SIGSTOP)
    try:
        yield
    finally:
        for other in others:
            os.kill(other, signal.SIGCONT)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def browser() -> urllib.request.OpenerDirector:
    """A cookie-keeping HTTP client that does not follow redirects."""
    cookies = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    return urllib.request.build_opener(cookies, _NoRedirect)


def login_form_token(opener, base: str) -> str:
    page = opener.open(base + "/login/", timeout=60).read().decode()
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def submit_login(opener, base: str, csrf_token: str, username: str) -> None:
    form = {"csrf_token": csrf_token, "username": username, "password": PASSWORD}
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(base + "/login/", urllib.parse.urlencode(form).encode(), timeout=60)
    redirect.value.close()
    assert redirect.value.code == 302 and "/login" not in redirect.value.headers["Location"]


def screen_status(opener, url: str) -> int:
    try:
        with opener.open(url, timeout=60) as resp:
            return resp.status
    except urllib.error.HTTPError as err:  # a redirect (to the login page) is one here
        err.close()
        return err.code


def answers_signed_in(base: str, opener, token: str) -> None:
    with urllib.request.urlopen(base + "/login/", timeout=60) as resp:
        assert resp.status == 200
    status, body, _ = call(base + "/api/v1/case/", token=token)
    assert status == 200, body
    assert screen_status(opener, base + "/cases/") == 200


@needs_gunicorn
def test_two_workers_each_answer_share_sessions_and_stop_cleanly(served_db):
    instance, database_url = served_db
    # A file a crash left behind: the master asks the database about it before forking.
    orphan = instance / "uploads" / "ab" / ("ab" + "0" * 30)
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left by a crash")
    os.utime(orphan, (time.time() - 86400,) * 2)
    args = ("--workers", "2", "--threads", "2")
    proc, base, log = start(instance, database_url, KESU, *args)
    try:
        workers = wait_for_workers(proc.pid, 2)
        # The master used the database before forking (the orphan-upload cleanup) and closed
        # its connections first: no worker can share one with another.
        assert not orphan.exists()
        assert database_handles(proc.pid, database_url) == []
        # Only KESU_PROXY_FIX decides which proxy to believe, as under waitress: gunicorn
        # does not take a client's word that the request came over HTTPS.
        _, _, headers = call(base + "/login/", headers={"X-Forwarded-Proto": "https"})
        assert "secure" not in headers["Set-Cookie"].lower()
        token = login(base, "agent")
        # The login form from one worker, its CSRF token and session checked by the other.
        opener = browser()
        with only(workers[0], workers):
            csrf_token = login_form_token(opener, base)
        with only(workers[1], workers):
            submit_login(opener, base, csrf_token, "supervisor")
        # Each worker alone answers the login page, the API with a token and a screen with
        # the session cookie.
        for worker in workers:
            with only(worker, workers):
                answers_signed_in(base, opener, token)
        # A worker that is restarted comes back preloaded, and the session still holds.
        os.kill(workers[0], signal.SIGTERM)
        renewed = wait_for_workers(proc.pid, 2, gone={workers[0]})
        fresh = next(w for w in renewed if w not in workers)
        with only(fresh, renewed):
            answers_signed_in(base, opener, token)
    finally:
        code = stop(proc)
    # SIGTERM stops the workers and the master cleanly.
    assert code == 0, log.read_text()[-2000:]
    assert not any(Path(f"/proc/{w}").exists() for w in renewed)
    # A restart of the whole server signs nobody out.
    proc, base, log = start(instance, database_url, KESU, *args)
    try:
        answers_signed_in(base, opener, token)
    finally:
        assert stop(proc) == 0, log.read_text()[-2000:]


def test_several_workers_without_gunicorn_serve_with_waitress(served_db):
    instance, database_url = served_db
    proc, base, log = start(
        instance, database_url, KESU_WITHOUT_GUNICORN, "--workers", "2", "--threads", "2"
    )
    try:
        token = login(base, "agent")
        assert call(base + "/api/v1/case/", token=token)[0] == 200
        if LINUX:
            assert children(proc.pid) == set()  # one process: waitress
    finally:
        stop(proc)
    output = log.read_text()
    assert "gunicorn is not available" in output
    assert "one waitress process of 4 threads" in output


def test_building_the_app_touches_no_database(served_db):
    """Workers are forked from an app built without a statement: no permission sync, no
    migration, no connection the fork could share (``kesu init`` does the writing)."""
    instance, database_url = served_db
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def connected(*_args):
        statements.append("<connect>")

    event.listen(sa.engine.Engine, "before_cursor_execute", record)
    event.listen(sa.pool.Pool, "connect", connected)
    try:
        app = create_app(
            {
                "INSTANCE_PATH": str(instance),
                "SQLALCHEMY_DATABASE_URI": database_url,
                "SECRET_KEY": SECRET,
            }
        )
    finally:
        event.remove(sa.engine.Engine, "before_cursor_execute", record)
        event.remove(sa.pool.Pool, "connect", connected)
    assert statements == []
    assert app.config["FAB_UPDATE_PERMS"] is False
