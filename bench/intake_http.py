"""Intake over HTTP: Kesu's ``POST /api/v1/case/`` against a bare Flask-AppBuilder create.

    python bench/intake_http.py                       # SQLite files
    python bench/intake_http.py --pg postgresql+psycopg2://user:pw@127.0.0.1:5432/postgres

Builds a fresh Kesu instance (a business line with the product-quality and major-incident
plugins, a customer, a CS agent) and a fresh bare FAB app (bench/bare_fab_intake.py: one
14-column table behind ``ModelRestApi``) on the same engine, serves each with gunicorn
(``--workers`` processes, gthread), and registers ``--cases`` complaints with ``--clients``
concurrent clients (a keep-alive session each, signed in through the JWT login
``/api/v1/security/login``), alternating which app goes first, median of ``--rounds``.
Every answer must be a 201. Before that, in-process (Flask test clients, no server): SQL
statements and milliseconds per registration on each side. With ``--pg`` the databases are
created beside the URL's database and dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench import bare_fab_intake as bare  # noqa: E402

KESU_USER, KESU_PASSWORD = "bench", "bench-bench-2026"
KESU_BODY = {
    "business_line": "B1",
    "category": "product_quality",
    "channel": "phone",
    "customer": {"name": "基准经销商"},
    "quantity_purchased": 10,
    "description": "基准测试",
    "claim_amount": "100.00",
    "details": {"problem": "quality_defect", "affected_quantity": 2},
}
BARE_BODY = {
    "business_line": "B1",
    "category": "product_quality",
    "channel": "phone",
    "customer": "基准经销商",
    "quantity_purchased": 10,
    "description": "基准测试",
    "claim_amount": 100.0,
}


def kesu_body(tag: str) -> dict:
    return {**KESU_BODY, "batch_no": f"B-{tag}"}


def bare_body(tag: str) -> dict:
    return {**BARE_BODY, "number": f"N-{tag}", "batch_no": f"B-{tag}"}


# -- databases and apps ------------------------------------------------------------------


class Databases:
    """Fresh databases for one engine: SQLite files in ``folder``, or PostgreSQL databases
    created beside ``pg_url``'s (dropped by :meth:`drop`)."""

    def __init__(self, folder: Path, pg_url: str | None):
        self.folder, self.pg_url, self.made = folder, pg_url, []

    def new(self, name: str) -> str:
        if not self.pg_url:
            return f"sqlite:///{self.folder / (name + '.db')}"
        db_name = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        self._admin(f"CREATE DATABASE {db_name}")
        self.made.append(db_name)
        return self.pg_url.rsplit("/", 1)[0] + "/" + db_name

    def drop(self) -> None:
        for name in self.made:
            self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _admin(self, sql: str) -> None:
        engine = sa.create_engine(self.pg_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(sql)
        engine.dispose()


def build_kesu(instance: Path, url: str):
    """A Kesu instance: line B1 (product quality, major incident), a customer, a CS agent."""
    from bench.intake import seed
    from core.app import create_app
    from core.extensions import db

    app = create_app({"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        seed(KESU_USER, KESU_PASSWORD)
        db.session.remove()
        db.engine.dispose()
    return app


def build_bare(url: str):
    os.environ["BARE_FAB_DATABASE_URL"] = url
    bare.init()
    return bare.create_app()


# -- in-process ------------------------------------------------------------------------------


@contextmanager
def counting(engine):
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)


def in_process(app, login: tuple[str, str], url: str, body, n: int) -> tuple[int, float]:
    """(statements of one registration, ms per registration) through a Flask test client."""
    client = app.test_client()
    resp = client.post(
        "/api/v1/security/login",
        json={"username": login[0], "password": login[1], "provider": "db"},
    )
    headers = {"Authorization": f"Bearer {resp.get_json()['access_token']}"}
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
    tag = uuid.uuid4().hex[:6]
    for i in range(5):  # warm the caches
        assert client.post(url, json=body(f"w{tag}{i}"), headers=headers).status_code == 201
    with counting(engine) as seen:
        assert client.post(url, json=body(f"c{tag}"), headers=headers).status_code == 201
    start = time.perf_counter()
    for i in range(n):
        resp = client.post(url, json=body(f"t{tag}{i}"), headers=headers)
        assert resp.status_code == 201, resp.get_json()
    return len(seen), (time.perf_counter() - start) / n * 1000


# -- over HTTP -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving ``target`` (module:factory()) with ``workers`` processes."""

    def __init__(self, target: str, env: dict[str, str], workers: int, threads: int):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--log-level",
            "warning",
            target,
        ]
        self.proc = subprocess.Popen(
            cmd,
            cwd=str(ROOT),
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                requests.get(self.base + "/api/v1/_ping", timeout=10)
                return
            except requests.RequestException:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{target} did not start") from None
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"{target} did not answer")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=60)


def signed_in(base: str, user: str, password: str) -> requests.Session:
    session = requests.Session()
    resp = session.post(
        base + "/api/v1/security/login",
        json={"username": user, "password": password, "provider": "db"},
        timeout=60,
    )
    resp.raise_for_status()
    session.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
    return session


def post_cases(sessions, url: str, body, n: int, tag: str) -> float:
    """Register ``n`` cases with one thread per session; returns cases per second."""
    share = [n // len(sessions) + (1 if i < n % len(sessions) else 0) for i in range(len(sessions))]
    errors: list[str] = []
    ready = threading.Barrier(len(sessions) + 1)

    def client(k: int) -> None:
        session = sessions[k]
        ready.wait()
        for i in range(share[k]):
            resp = session.post(url, json=body(f"{tag}-{k}-{i}"), timeout=120)
            if resp.status_code != 201:
                errors.append(f"{resp.status_code} {resp.text[:200]}")
                return

    threads = [threading.Thread(target=client, args=(k,)) for k in range(len(sessions))]
    for t in threads:
        t.start()
    ready.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} requests failed, e.g. {errors[0]}")
    return n / elapsed


# -- the run -----------------------------------------------------------------------------------


def run_engine(args, pg_url: str | None) -> dict:
    engine_name = "PostgreSQL" if pg_url else "SQLite"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        dbs = Databases(folder, pg_url)
        servers: list[Server] = []
        try:
            kesu_url, bare_url = dbs.new("kesu"), dbs.new("bare")
            kesu_app = build_kesu(folder / "kesu", kesu_url)
            bare_app = build_bare(bare_url)
            statements_k, ms_k = in_process(
                kesu_app, (KESU_USER, KESU_PASSWORD), "/api/v1/case/", kesu_body, args.in_process
            )
            statements_b, ms_b = in_process(
                bare_app, (bare.USER, bare.PASSWORD), "/api/v1/complaint/", bare_body, 100
            )
            kesu = Server(
                "core.app:create_app()",
                {"KESU_INSTANCE_PATH": str(folder / "kesu"), "KESU_DATABASE_URL": kesu_url},
                args.workers,
                args.threads,
            )
            servers.append(kesu)
            bare_server = Server(
                "bench.bare_fab_intake:create_app()",
                {"BARE_FAB_DATABASE_URL": bare_url},
                args.workers,
                args.threads,
            )
            servers.append(bare_server)
            sides = {
                "kesu": (
                    [signed_in(kesu.base, KESU_USER, KESU_PASSWORD) for _ in range(args.clients)],
                    kesu.base + "/api/v1/case/",
                    kesu_body,
                ),
                "bare": (
                    [
                        signed_in(bare_server.base, bare.USER, bare.PASSWORD)
                        for _ in range(args.clients)
                    ],
                    bare_server.base + "/api/v1/complaint/",
                    bare_body,
                ),
            }
            for name, (sessions, url, body) in sides.items():  # warm every worker up
                post_cases(sessions, url, body, 4 * args.clients, f"warm-{name}")
            rates: dict[str, list[float]] = {"kesu": [], "bare": []}
            for r in range(args.rounds):
                order = ("kesu", "bare") if r % 2 == 0 else ("bare", "kesu")
                for name in order:
                    sessions, url, body = sides[name]
                    rates[name].append(post_cases(sessions, url, body, args.cases, f"r{r}"))
                    print(f"  {engine_name} round {r + 1} {name}: {rates[name][-1]:.0f} cases/s")
        finally:
            for server in servers:
                server.stop()
            dbs.drop()
    k, b = statistics.median(rates["kesu"]), statistics.median(rates["bare"])
    return {
        "engine": engine_name,
        "kesu": k,
        "bare": b,
        "statements": (statements_k, statements_b),
        "ms": (ms_k, ms_b),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300, help="cases per round and side")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="gthread threads per worker")
    parser.add_argument("--in-process", type=int, default=100, help="registrations timed")
    parser.add_argument("--pg", metavar="URL", help="also on PostgreSQL (a server URL)")
    parser.add_argument("--pg-only", action="store_true", help="skip SQLite")
    args = parser.parse_args()
    engines = ([] if args.pg_only else [None]) + ([args.pg] if args.pg else [])
    results = [run_engine(args, url) for url in engines]
    print(
        f"\n{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; {args.workers} gunicorn workers x {args.threads} "
        f"threads, {args.clients} clients, {args.cases} cases a round, median of {args.rounds}"
    )
    for res in results:
        (sk, sb), (mk, mb) = res["statements"], res["ms"]
        print(
            f"{res['engine']:10}  HTTP: Kesu {res['kesu']:.0f} cases/s, bare FAB {res['bare']:.0f}"
            f" cases/s, ratio {res['kesu'] / res['bare']:.2f}x   in-process: Kesu {sk} statements"
            f" {mk:.2f} ms/case, bare {sb} statements {mb:.2f} ms/case ({mk / mb:.1f}x)"
        )


if __name__ == "__main__":
    main()
