"""The case list at 100k and 1M cases: Kesu's list requests beside a bare Flask-AppBuilder app.

    python -m bench lists --sizes 100000,1000000 [--pg URL] [--rebuild]

Builds (once per size and engine, cached: the path is printed) a database of N cases on two
business lines with their twelve deadlines each (bench/data.py: bulk loaded, the schema,
lines and users made by the app), then measures as a CS agent of ONE line, in-process through
the Flask test client, each request of issue 12's table: 3 rounds of 30 requests, p50 and p95
in ms (medians over the rounds), and the SQL statements per request. Beside it, in the same
run, a bare FAB app over the same N rows (bench/bare_fab.py, its own process and database).
Prints a Markdown table per size and engine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import data  # noqa: E402
from bench.timing import machine, measure, ms, statement_counter, timed_get  # noqa: E402

PASSWORD = "bench-bench"
AGENT = "bench-agent"  # a CS agent of line B1 only
HANDLERS_PER_LINE = 8
PRODUCTS_PER_LINE = 50
PLUGINS = [*data.CATEGORY_PLUGINS, "major_incident"]


# -- where the data lives -----------------------------------------------------------------


class Target:
    """One engine and size: the Kesu database and the bare FAB one, plus the build record."""

    def __init__(self, engine: str, n: int, pg: str | None, folder: Path):
        self.engine, self.n, self.pg = engine, n, pg
        stem = f"kesu-bench-{engine}-{n}"
        self.instance = folder / f"{stem}.instance"
        self.record = folder / f"{stem}.json"
        self.bare_record = folder / f"kesu-bench-bare-{engine}-{n}.json"
        if engine == "sqlite":
            self.path = folder / f"{stem}.sqlite"
            self.url = data.sqlite_url(self.path)
            self.bare_path = folder / f"kesu-bench-bare-{engine}-{n}.sqlite"
            self.bare_url = data.sqlite_url(self.bare_path)
            self.where = str(self.path)
        else:
            self.db_name, self.bare_name = f"kesu_bench_{n}", f"kesu_bench_bare_{n}"
            self.url = data.pg_database_url(pg, self.db_name)
            self.bare_url = data.pg_database_url(pg, self.bare_name)
            self.where = f"PostgreSQL database {self.db_name} (bare FAB: {self.bare_name})"

    def drop(self, bare: bool = False) -> None:
        if self.engine == "sqlite":
            path = self.bare_path if bare else self.path
            for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                p.unlink(missing_ok=True)
        else:
            name = self.bare_name if bare else self.db_name
            data.pg_admin(self.pg, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            data.pg_admin(self.pg, f"CREATE DATABASE {name}")
        (self.bare_record if bare else self.record).unlink(missing_ok=True)

    def built(self, bare: bool = False) -> dict | None:
        record = self.bare_record if bare else self.record
        return json.loads(record.read_text()) if record.exists() else None

    def engine_version(self) -> str:
        if self.engine == "sqlite":
            return f"SQLite {sqlite3.sqlite_version} (WAL)"
        loader = data.Loader(self.url)
        version = loader.execute("SHOW server_version")[0][0]
        loader.close()
        return f"PostgreSQL {version.split()[0]}"


# -- building -----------------------------------------------------------------------------


def build(target: Target) -> dict:
    """The Kesu database of ``target.n`` cases; the build record (also written beside it)."""
    import sqlalchemy as sa

    from core.extensions import db
    from core.services.setup import init_database

    start = time.perf_counter()
    target.drop()
    end = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    database = target.path if target.engine == "sqlite" else target.url
    app = data.make_app(target.instance, database, FAB_PASSWORD_HASH_METHOD=data.CHEAP_HASH)
    refs = []
    with app.app_context():
        init_database()
        for code in ("B1", "B2"):
            line_id = data.setup_line(code, f"基准业务线 {code}", PLUGINS)
            handlers = [
                data.setup_user(f"handler-{code.lower()}-{k}", PASSWORD, "CS Agent", [code])
                for k in range(HANDLERS_PER_LINE)
            ]
            refs.append(data.LineRefs(id=line_id, customers=[], handlers=handlers))
        data.setup_user(AGENT, PASSWORD, "CS Agent", ["B1"])
        next_id = (db.session.scalar(sa.text("SELECT max(id) FROM customer")) or 0) + 1
    data.close(app)

    loader = data.Loader(target.url)
    per_line = max(target.n // 20 // len(refs), 1)
    customers, products = [], []
    for ref in refs:
        for k in range(per_line):
            ref.customers.append(next_id)
            customers.append((next_id, ref.id, data.customer_name(k), "dealer"))
            next_id += 1
        for k in range(PRODUCTS_PER_LINE):
            products.append((ref.id, f"SKU-{ref.id}-{k:03d}", f"基准产品 {k + 1}"))
    loader.load("customer", ("id", "business_line_id", "name", "kind"), customers)
    loader.load("product", ("business_line_id", "code", "name"), products)
    product_ids = loader.execute("SELECT id, business_line_id FROM product")
    for ref in refs:
        ref.products = [pid for pid, line in product_ids if line == ref.id]
    indexes = loader.drop_indexes("kesu_case") + loader.drop_indexes("case_deadline")
    t_rows = time.perf_counter()
    counts = data.load_cases(loader, data.generate_cases(target.n, refs, end))
    t_indexes = time.perf_counter()
    data.set_next_due(loader)  # before the indexes, which hold it
    loader.create_indexes(indexes)
    if loader.pg:
        for table in ("customer", "product", "kesu_case"):
            loader.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
    t_finish = time.perf_counter()
    loader.finish()
    done = time.perf_counter()
    record = {
        **counts,
        "customers": len(customers),
        "built_on": dt.date.today().isoformat(),
        "seconds": round(done - start, 1),
        "rows_seconds": round(t_indexes - t_rows, 1),
        "index_seconds": round(t_finish - t_indexes, 1),
        "finish_seconds": round(done - t_finish, 1),
    }
    if target.engine == "sqlite":
        record["mib"] = round(target.path.stat().st_size / 2**20)
    target.record.write_text(json.dumps(record))
    return record


def schema_heads() -> set[str]:
    """The core's newest migration."""
    from alembic.script import ScriptDirectory

    from core.app import MIGRATIONS_DIR

    return set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def stale(target: Target) -> bool:
    """The cached database's schema is not the code's newest (a migration landed since)."""
    loader = data.Loader(target.url)
    try:
        found = {row[0] for row in loader.execute("SELECT version_num FROM alembic_version")}
    except Exception:  # no such table: not a built database
        found = set()
    loader.close()
    return not schema_heads() <= found  # the plugins' branches are there too


def ensure(target: Target, rebuild: bool) -> None:
    record = None if rebuild else target.built()
    if record is not None and stale(target):
        print(f"{target.where}: built on an older schema, building again", flush=True)
        record = None  # the bare app's table does not follow Kesu's schema: kept
    if record is None:
        print(f"building {target.n:,} cases on {target.engine} ...", flush=True)
        record = build(target)
        how = "built"
    else:
        how = "cached"
    print(
        f"{how}: {target.where}: {record['cases']:,} cases, {record['deadlines']:,} deadline rows"
        f" (build {record['seconds']} s: rows {record['rows_seconds']} s, next deadline and indexes "
        f"{record['index_seconds']} s, finish {record['finish_seconds']} s"
        + (f", {record['mib']} MiB" if "mib" in record else "")
        + ")",
        flush=True,
    )
    if rebuild or target.built(bare=True) is None:
        target.drop(bare=True)
        print(f"building the bare FAB table of {target.n:,} rows ...", flush=True)
        run_bare(target, build=True, rounds=0, requests=0, budget=0)


# -- measuring ----------------------------------------------------------------------------


def run_bare(target: Target, *, build: bool, rounds: int, requests: int, budget: float, number=""):
    cmd = [sys.executable, "-m", "bench.bare_fab", "--url", target.bare_url]
    cmd += ["--cases", str(target.n), "--rounds", str(rounds)]
    cmd += ["--requests", str(requests), "--budget", str(budget)]
    if number:
        cmd += ["--number", number]
    if build:
        cmd.append("--build")
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    if build:
        target.bare_record.write_text(json.dumps({"seconds": round(result["build_seconds"], 1)}))
        print(f"built the bare FAB table in {result['build_seconds']:.1f} s", flush=True)
    return result


def sample(loader: data.Loader, line_id: int, n: int) -> dict:
    """Existing values of line B1 to search for: a number, a customer's name, a batch."""
    rows = loader.execute(
        "SELECT c.id, c.number, cu.name, c.batch_no FROM kesu_case c "
        "JOIN customer cu ON cu.id = c.customer_id "
        "WHERE c.business_line_id = ? AND c.batch_no IS NOT NULL AND c.id > ? "
        "ORDER BY c.id LIMIT 1",
        (line_id, n // 3),
    )
    case_id, number, customer, batch = rows[0]
    return {"id": case_id, "number": number, "customer": customer, "batch": batch}


def kesu_requests(values: dict) -> list[tuple[str, str, str]]:
    """(label, kind, url): kind ``api`` uses the JWT, ``screen`` the signed-in session."""
    api = "/api/v1/case/"
    return [
        ("API list, default (newest first)", "api", api),
        ("API list, category filter", "api", api + "?category=logistics"),
        ("API list, overdue", "api", api + "?overdue=true"),
        ("API list, sort by next deadline", "api", api + "?sort=deadline"),
        ("API list, overdue + sort by deadline", "api", api + "?overdue=true&sort=deadline"),
        ("API list, search by number", "api", api + "?q=" + quote(values["number"])),
        ("API list, search by customer", "api", api + "?q=" + quote(values["customer"])),
        ("API list, search by batch", "api", api + "?q=" + quote(values["batch"])),
        ("screen /cases/ default", "screen", "/cases/"),
        ("case page, API", "api", f"{api}{values['id']}"),
        ("case page, screen", "screen", f"/cases/{values['id']}"),
    ]


BARE = {
    "API list, default (newest first)": "default",
    "API list, category filter": "category",
    "API list, search by number": "contains",
}


def measure_kesu(target: Target, rounds: int, requests: int, budget: float) -> tuple[list, dict]:
    """In-process, through the Flask test client, counting statements."""
    from core.extensions import db
    from core.models import BusinessLine

    database = target.path if target.engine == "sqlite" else target.url
    app = data.make_app(target.instance, database, WTF_CSRF_ENABLED=False)
    with app.app_context():
        line_id = db.session.query(BusinessLine.id).filter_by(code="B1").scalar()
        db.session.remove()
        loader = data.Loader(target.url)
        values = sample(loader, line_id, target.n)
        loader.close()
        counter = statement_counter(db.engine)
        client = app.test_client()
        resp = client.post("/login/", data={"username": AGENT, "password": PASSWORD})
        if resp.status_code != 302:
            raise RuntimeError(f"signing in as {AGENT} failed: {resp.status_code}")
        token = client.post(
            "/api/v1/security/login",
            json={"username": AGENT, "password": PASSWORD, "provider": "db"},
        ).get_json()["access_token"]
        rows = measure_requests(client, token, values, counter, rounds, requests, budget)
    data.close(app)
    return rows, values


def measure_http(target: Target, values: dict, rounds: int, requests: int, budget: float) -> list:
    """Over HTTP against one ``kesu serve`` process (waitress) on the same database."""
    from bench.over_http import HttpClient, Server

    with Server(target.instance, target.url, data.SECRET) as server:
        client = HttpClient(server.url)
        client.sign_in(AGENT, PASSWORD)
        token = client.post_json(
            "/api/v1/security/login", {"username": AGENT, "password": PASSWORD, "provider": "db"}
        ).get_json()["access_token"]
        return measure_requests(client, token, values, None, rounds, requests, budget)


def measure_requests(client, token, values, counter, rounds, requests, budget) -> list:
    bearer = {"Authorization": f"Bearer {token}"}
    rows = []
    for label, kind, url in kesu_requests(values):
        headers = bearer if kind == "api" else None
        rows.append((label, measure(client, url, headers, counter, rounds, requests, budget)))
        print(f"  {label}: {rows[-1][1]['p95']:.1f} ms p95", flush=True)
        if label.endswith("(newest first)"):
            rows.append(second_page(client, url, bearer, counter, rounds, requests, budget))
            print(f"  {rows[-1][0]}: {rows[-1][1]['p95']:.1f} ms p95", flush=True)
    return rows


def second_page(client, url, headers, counter, rounds, requests, budget):
    """The next page: through the ``next`` cursor when the answer has one, else ``page=2``."""
    body = timed_get(client, url, headers, counter)[0].get_json()
    if "next" in body or "count" not in body:
        if not body.get("next"):
            raise RuntimeError("the first page has no next cursor")
        label, nxt = "API list, second page (next cursor)", f"{url}?after={quote(body['next'])}"
    else:
        label, nxt = "API list, second page (page=2)", f"{url}?page=2"
    return label, measure(client, nxt, headers, counter, rounds, requests, budget)


def table(target: Target, rows: list, bare: dict | None) -> list[str]:
    lines = [
        "| request | Kesu p50 | Kesu p95 | statements | bare FAB p95 |",
        "|---|---|---|---|---|",
    ]
    reduced = False
    for label, r in rows:
        mark = ""
        if r["requests"] < r.get("asked", r["requests"]):
            mark, reduced = f" ({r['requests']} per round)", True
        b = bare.get(BARE.get(label)) if bare else None
        bare_cell = ms(b["p95"]) if b else "—"
        lines.append(
            f"| {label}{mark} | {ms(r['p50'])} | {ms(r['p95'])} | {r['statements']} | {bare_cell} |"
        )
    if reduced:
        lines.append("")
        lines.append("(n per round): fewer requests where 30 would exceed the time budget.")
    return lines


def http_table(rows: list, http_rows: list) -> list[str]:
    inproc = dict(rows)
    lines = [
        "| request | HTTP p50 | HTTP p95 | in-process p95 |",
        "|---|---|---|---|",
    ]
    for label, r in http_rows:
        mine = inproc.get(label)
        lines.append(
            f"| {label} | {ms(r['p50'])} | {ms(r['p95'])} | {ms(mine['p95']) if mine else '—'} |"
        )
    return lines


def run(args) -> list[str]:
    """Measure every size on every engine; the Markdown report's lines."""
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    engines = args.engines or (["sqlite"] + (["postgresql"] if args.pg else []))
    if "postgresql" in engines and not args.pg:
        raise SystemExit("--engines postgresql needs --pg URL")
    report = []
    for n in args.sizes:
        for engine in engines:
            target = Target(engine, n, args.pg, folder)
            ensure(target, args.rebuild)
            print(f"measuring {n:,} cases on {engine} ...", flush=True)
            load = os.getloadavg()[0]
            rows, values = measure_kesu(target, args.rounds, args.requests, args.budget)
            for _, r in rows:
                r["asked"] = args.requests
            bare = None
            if not args.no_bare:
                bare = run_bare(
                    target,
                    build=False,
                    rounds=args.rounds,
                    requests=args.requests,
                    budget=args.budget,
                    number=values["number"],
                )
                for key in ("default", "category", "contains"):
                    print(f"  bare FAB {key}: {bare[key]['p95']:.1f} ms p95", flush=True)
            http_rows = None
            if args.http:
                print(f"measuring {n:,} cases on {engine} over HTTP ...", flush=True)
                http_rows = measure_http(target, values, args.rounds, args.requests, args.budget)
            record = target.built()
            report += [
                "",
                f"### Lists at {n:,} cases, {target.engine_version()}",
                "",
                f"{dt.date.today().isoformat()}; {machine(target.engine_version())}, load "
                f"average {load:.1f} at the start; "
                f"{args.rounds} rounds × {args.requests} requests, median of the rounds' "
                f"p50/p95; a CS agent of one line (half the cases); data built in "
                f"{record['seconds']} s ({record['cases']:,} cases, "
                f"{record['deadlines']:,} deadline rows).",
                "",
                *table(target, rows, bare),
            ]
            if http_rows:
                report += ["", "Over HTTP (one `kesu serve` process, waitress, loopback):", ""]
                report += http_table(rows, http_rows)
    return report


def parse(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench lists", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sizes", default="100000", help="comma-separated case counts")
    parser.add_argument("--pg", help="a PostgreSQL URL (superuser) to measure PostgreSQL too")
    parser.add_argument(
        "--engines",
        help="comma-separated: sqlite,postgresql (default: sqlite, and PostgreSQL with --pg)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument(
        "--budget", type=float, default=20.0, help="seconds per request kind and round"
    )
    parser.add_argument("--rebuild", action="store_true", help="build the data again")
    parser.add_argument("--http", action="store_true", help="also measure over HTTP (kesu serve)")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare FAB baseline")
    parser.add_argument(
        "--folder", default=os.environ.get("KESU_BENCH_DIR", "/tmp"), help="where the data is kept"
    )
    parser.add_argument("--out", help="also append the Markdown tables to this file")
    args = parser.parse_args(argv)
    args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    args.engines = [e for e in (args.engines or "").split(",") if e]
    return args


def main(argv=None) -> None:
    args = parse(argv)
    report = run(args)
    text = "\n".join(report) + "\n"
    print(text)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
