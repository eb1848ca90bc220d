"""Shared data builder of the benchmarks: the app on a given database, bulk loading, and a
generator of realistic cases with their twelve deadlines.

Rows are written with the engine's own bulk path (``executemany`` on a raw ``sqlite3``
connection, ``COPY ... FROM STDIN`` on PostgreSQL), not through the service layer; the
schema, roles, lines and users are made by the app itself (migrations, ``create_line``,
``create_user``), so the rows sit in the app's real schema and satisfy its invariants
(unique numbers, one row per deadline name and case, states that match the case's stage).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.workflow import MAIN_PATH

CHUNK = 100_000
SECRET = "bench-secret-key-long-enough-for-jwt-hmac"
CHEAP_HASH = "pbkdf2:sha256:1000"  # accounts made for a benchmark: fast to create and sign in

# -- the app and its database -------------------------------------------------------------


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def pg_database_url(base_url: str, name: str) -> str:
    """``base_url`` (any database of the server) with its database name replaced."""
    return base_url.rsplit("/", 1)[0] + "/" + name


def _pg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg2://", "postgresql://")


def pg_admin(base_url: str, sql: str) -> None:
    import psycopg2

    con = psycopg2.connect(_pg_dsn(base_url))
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(sql)
    con.close()


def pg_exists(base_url: str, name: str) -> bool:
    import psycopg2

    con = psycopg2.connect(_pg_dsn(base_url))
    with con.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        found = cur.fetchone() is not None
    con.close()
    return found


def make_app(folder: Path, database: Path | str | None = None, **config):
    """The Kesu app with its instance in ``folder``, on ``database`` (a SQLite file or a URL)."""
    from core.app import create_app

    folder.mkdir(parents=True, exist_ok=True)
    conf = {
        "INSTANCE_PATH": str(folder),
        "SECRET_KEY": SECRET,
        **config,
    }
    if isinstance(database, Path):
        conf["SQLALCHEMY_DATABASE_URI"] = sqlite_url(database)
    elif database is not None:
        conf["SQLALCHEMY_DATABASE_URI"] = database
    return create_app(conf)


def close(app) -> None:
    from core.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def setup_line(code: str, name: str, plugins: Sequence[str] = ()) -> int:
    """Create a business line through the service layer; its id."""
    from core.services import lines
    from core.services.access import SYSTEM

    lines.create_line(SYSTEM, code=code, name=name, plugins=list(plugins))
    return lines.get_line(code).id


def setup_user(username: str, password: str, role: str, line_codes: Sequence[str]) -> int:
    """Create a staff account through the service layer; its id."""
    from core.services.access import SYSTEM
    from core.services.setup import create_user

    return create_user(
        SYSTEM, username=username, password=password, roles=[role], lines=list(line_codes)
    ).id


# -- bulk loading -------------------------------------------------------------------------


def ts(value: dt.datetime) -> str:
    """A UTC timestamp as the app's ``UTCDateTime`` stores it (naive UTC text)."""
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


class Loader:
    """Bulk writes into an existing schema on one raw connection (one transaction).

    ``url`` is a SQLAlchemy URL: ``sqlite:///path`` or ``postgresql+psycopg2://...``.
    """

    def __init__(self, url: str):
        self.pg = url.startswith("postgresql")
        if self.pg:
            import psycopg2

            self.con = psycopg2.connect(_pg_dsn(url))
            with self.con.cursor() as cur:  # no per-row foreign-key triggers (superuser)
                cur.execute("SET session_replication_role = replica")
        else:
            self.con = sqlite3.connect(url.removeprefix("sqlite:///"))
            self.con.execute("PRAGMA synchronous = OFF")
            self.con.execute("PRAGMA cache_size = -524288")  # 512 MiB for this connection

    def execute(self, sql: str, params: Sequence = ()) -> list[tuple]:
        cur = self.con.cursor()
        cur.execute(sql if not self.pg else sql.replace("?", "%s"), params)
        rows = cur.fetchall() if cur.description else []
        cur.close()
        return rows

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
        """Insert ``rows`` (tuples in ``columns`` order, values as the database takes them)."""
        count, chunk = 0, []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= CHUNK:
                self._write(table, columns, chunk)
                count, chunk = count + len(chunk), []
        if chunk:
            self._write(table, columns, chunk)
            count += len(chunk)
        return count

    def _write(self, table: str, columns: Sequence[str], chunk: list[Sequence]) -> None:
        if self.pg:
            buf = io.StringIO()
            csv.writer(buf).writerows(chunk)
            buf.seek(0)
            with self.con.cursor() as cur:
                cur.copy_expert(
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buf
                )
        else:
            marks = ", ".join("?" for _ in columns)
            self.con.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", chunk
            )

    def columns(self, table: str) -> set[str]:
        if self.pg:
            rows = self.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?", (table,)
            )
            return {r[0] for r in rows}
        return {r[1] for r in self.execute(f"PRAGMA table_info({table})")}

    def drop_indexes(self, table: str) -> list[str]:
        """Drop the table's secondary indexes (not those of its constraints); their DDL."""
        if self.pg:
            found = self.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ? "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                (table,),
            )
        else:
            found = self.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL",
                (table,),
            )
        for name, _ in found:
            self.execute(f'DROP INDEX "{name}"')
        return [ddl for _, ddl in found]

    def create_indexes(self, ddls: Iterable[str]) -> None:
        for ddl in ddls:
            self.execute(ddl)

    def commit(self) -> None:
        self.con.commit()

    def close(self) -> None:
        self.con.close()

    def finish(self) -> None:
        """Commit; on PostgreSQL also ``VACUUM ANALYZE`` (what autovacuum would soon do)."""
        self.con.commit()
        if self.pg:
            self.con.autocommit = True
            self.execute("VACUUM ANALYZE")
        else:
            self.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.close()


# -- realistic cases ----------------------------------------------------------------------

CATEGORIES = (
    ("product_quality", 35),
    ("logistics", 30),
    ("terminal_consumer", 20),
    ("policy_returns", 15),
)
CATEGORY_PLUGINS = [c for c, _ in CATEGORIES]
CHANNELS = ("phone", "phone", "phone", "email", "online", "sales_rep", "store", "fax")
PRIORITIES = (("P1", 5), ("P2", 20), ("P3", 75))
OPEN_STAGES = MAIN_PATH[:-1]
STAGE_INDEX = {stage: k for k, stage in enumerate(MAIN_PATH)}
# core/deadlines.py RULES: name, rough length on the clock (hours), the stage that meets it.
DEADLINES = (
    ("registered", 24, "new"),
    ("first_response", 0.25, "accepted"),
    ("classified", 0.5, "new"),
    ("assigned", 2, "investigating"),
    ("start_handling", 48, "investigating"),
    ("investigation", 7 * 24, "proposed"),
    ("reply", 4 * 24, "proposed"),
    ("reply_max", 9 * 24, "proposed"),
    ("solution", 7 * 24, "proposed"),
    ("proposal", 8.5 * 24, "approving"),
    ("compensation_done", 14 * 24, "confirming"),
    ("closed", 22 * 24, "closed"),
)
DEADLINE_COLUMNS = ("case_id", "business_line_id", "name", "due_at", "state", "met_at")
DEADLINE_COLUMNS += ("hold_seconds", "hold_clock_seconds")
CASE_COLUMNS = (
    "id",
    "number",
    "business_line_id",
    "category",
    "channel",
    "status",
    "held_from",
    "held_at",
    "priority",
    "priority_reasons",
    "is_major",
    "major_reasons",
    "acceptance_issues",
    "customer_id",
    "product_id",
    "batch_no",
    "quantity_purchased",
    "received_at",
    "description",
    "details",
    "deadlines",
    "stage_times",
    "handler_id",
    "version",
    "created_at",
    "updated_at",
)
CITIES = "上海 北京 广州 深圳 杭州 南京 成都 武汉 西安 苏州 天津 重庆 长沙 郑州 青岛 厦门 宁波 合肥 福州 昆明".split()
WORDS = "鸿达 华信 金源 永盛 恒通 瑞丰 嘉禾 天和 东方 新世纪 百川 万家 佳美 兴隆 安泰 润发 汇丰 利民 益康 福临".split()
KINDS = ("商贸有限公司", "经销部", "连锁超市", "贸易行", "食品店")
DETAILS = {
    "product_quality": '{"problem": "quality_defect", "affected_quantity": 2}',
    "logistics": '{"problem": "transit_damage"}',
}


def customer_name(k: int) -> str:
    """The k-th customer name of a line: unique, Chinese, a dealer or a shop."""
    combo = k % (len(CITIES) * len(WORDS) * len(KINDS))
    city, rest = divmod(combo, len(WORDS) * len(KINDS))
    word, kind = divmod(rest, len(KINDS))
    name = CITIES[city] + WORDS[word] + KINDS[kind]
    branch = k // (len(CITIES) * len(WORDS) * len(KINDS))
    return name + (f"（{branch + 1}号店）" if branch else "")


@dataclass
class LineRefs:
    """What the generated cases of one line refer to."""

    id: int
    customers: list[int]
    products: list[int] = field(default_factory=list)
    handlers: list[int] = field(default_factory=list)


def _weighted(pairs) -> list[str]:
    return [value for value, weight in pairs for _ in range(weight)]


@dataclass
class GeneratedCase:
    row: tuple
    deadlines: list[tuple]


def generate_cases(
    n: int,
    lines: Sequence[LineRefs],
    end: dt.datetime,
    days: int = 365,
    seed: int = 12,
    with_deadlines: bool = True,
) -> Iterator[GeneratedCase]:
    """``n`` cases received one after another over ``days`` days up to ``end``, alternating
    over ``lines``; older cases mostly closed, recent ones spread over the workflow, some
    deadlines past due at ``end``. Each with its twelve deadline rows (the same cases
    without them when not ``with_deadlines``)."""
    rng = random.Random(seed)
    end = end.astimezone(dt.UTC).replace(tzinfo=None)  # naive UTC inside, for speed
    categories, priorities = _weighted(CATEGORIES), _weighted(PRIORITIES)
    start = end - dt.timedelta(days=days)
    step = dt.timedelta(days=days) / max(n, 1)
    counters: dict[str, int] = {}
    empty_list, empty_dict = "[]", "{}"
    for i in range(n):
        line = lines[i % len(lines)]
        received = start + step * i + dt.timedelta(seconds=rng.randrange(60))
        age_days = (end - received).total_seconds() / 86400
        roll = rng.random()
        if age_days > 25:
            if roll < 0.92:
                status = "closed"
            elif roll < 0.96:
                status = "rejected"
            else:
                status = rng.choice(OPEN_STAGES[1:])
        else:
            progress = int(age_days / 22 * 8 + rng.uniform(-2, 2))
            status = MAIN_PATH[min(max(progress, 0), len(MAIN_PATH) - 1)]
        held_from = held_at = None
        if status not in ("closed", "rejected", "new") and rng.random() < 0.03:
            held_from, status = status, "on_hold"
        reached = STAGE_INDEX[held_from or status] if status != "rejected" else 1
        period = received.strftime("%Y%m")
        counters[period] = counters.get(period, 0) + 1
        number = f"KS-{period}-{counters[period]:05d}"
        priority = rng.choice(priorities)
        category = rng.choice(categories)
        is_major = rng.random() < 0.1
        case_id = i + 1

        stage_times, deadlines_json, deadline_rows = {}, {}, []
        t = received
        for s in MAIN_PATH[: reached + 1]:
            stage_times[s] = _iso(t)
            t += dt.timedelta(hours=rng.uniform(1, 60))
        if status == "rejected":
            stage_times = {"new": _iso(received), "rejected": _iso(t)}
        if held_from:
            held_at = t
            stage_times["on_hold"] = _iso(t)
        for name, hours, met_stage in DEADLINES:
            length = hours * rng.uniform(0.9, 1.4)
            met_at = None
            if status == "rejected":
                state = "void"
            elif status == "closed" or STAGE_INDEX[met_stage] <= reached:
                state = "met"
                met_share = rng.uniform(0.3, 1.1)
                if with_deadlines:
                    met_at = _ts(received + dt.timedelta(hours=length * met_share))
            else:
                state = "paused" if held_from else "running"
            if with_deadlines:
                due = _ts(received + dt.timedelta(hours=length))
                deadlines_json[name] = f"{due[:10]}T{due[11:]}+00:00"
                deadline_rows.append((case_id, line.id, name, due, state, met_at, 0, 0))
        handler = rng.choice(line.handlers) if line.handlers and reached >= 1 else None
        product = rng.choice(line.products) if line.products and rng.random() < 0.85 else None
        batch = None
        if rng.random() < 0.8:
            made = received - dt.timedelta(days=rng.randrange(10, 90))
            batch = f"B{made:%y%m%d}{rng.randrange(20):02d}"
        customer = line.customers[int(len(line.customers) * rng.random() ** 2)]
        updated = received + dt.timedelta(hours=rng.uniform(1, 400))
        row = (
            case_id,
            number,
            line.id,
            category,
            rng.choice(CHANNELS),
            status,
            held_from,
            _ts(held_at) if held_at else None,
            priority,
            '["repeat_customer"]' if priority != "P3" else empty_list,
            is_major,
            '["batch_outbreak"]' if is_major else empty_list,
            empty_list,
            customer,
            product,
            batch,
            rng.randrange(1, 200),
            _ts(received),
            "客户反映货物存在问题，要求处理。",
            DETAILS.get(category, empty_dict),
            _json(deadlines_json),
            _json(stage_times),
            handler,
            1,
            _ts(received),
            _ts(min(updated, end)),
        )
        yield GeneratedCase(row, deadline_rows)


def _ts(naive: dt.datetime) -> str:
    return naive.isoformat(sep=" ", timespec="microseconds")


def _iso(naive: dt.datetime) -> str:
    return naive.isoformat() + "+00:00"


def _json(d: dict[str, str]) -> str:
    return "{" + ", ".join(f'"{k}": "{v}"' for k, v in d.items()) + "}"


def load_cases(loader: Loader, cases: Iterable[GeneratedCase], chunk: int = 20_000) -> dict:
    """Write generated cases and their deadlines in chunks; the counts and, per month, the
    last case number given out (for ``case_counter``)."""
    counters: dict[str, int] = {}
    n_cases = n_deadlines = 0
    rows: list[tuple] = []
    deadlines: list[tuple] = []

    def flush():
        loader.load("kesu_case", CASE_COLUMNS, rows)
        loader.load("case_deadline", DEADLINE_COLUMNS, deadlines)
        rows.clear()
        deadlines.clear()

    for case in cases:
        rows.append(case.row)
        deadlines.extend(case.deadlines)
        number = case.row[1]
        counters[number[3:9]] = int(number[10:])
        n_cases += 1
        n_deadlines += len(case.deadlines)
        if len(rows) >= chunk:
            flush()
    flush()
    loader.load("case_counter", ("period", "last"), sorted(counters.items()))
    return {"cases": n_cases, "deadlines": n_deadlines}


# The case's soonest running deadline, as migration 0009a fills it (and the service keeps it).
NEXT_DUE_UPDATE = (
    "UPDATE kesu_case SET next_due_at = (SELECT min(d.due_at) FROM case_deadline d "
    "WHERE d.case_id = kesu_case.id AND d.state = 'running')"
)
NEXT_DUE_NAME_UPDATE = (
    "UPDATE kesu_case SET next_due_name = (SELECT min(d.name) FROM case_deadline d "
    "WHERE d.case_id = kesu_case.id AND d.state = 'running' "
    "AND d.due_at = kesu_case.next_due_at) WHERE next_due_at IS NOT NULL"
)


def set_next_due(loader: Loader) -> bool:
    """Fill the stored next deadline when the schema has it; whether it did."""
    columns = loader.columns("kesu_case")
    if "next_due_at" not in columns:
        return False
    loader.execute(NEXT_DUE_UPDATE)
    if "next_due_name" in columns:
        loader.execute(NEXT_DUE_NAME_UPDATE)
    return True
