"""The baseline of the list benchmark: a bare Flask-AppBuilder app, one 14-column table.

    python -m bench.bare_fab --url sqlite:////tmp/bare.sqlite --cases 100000

A minimal FAB 5 app (its security tables, one admin account, JWT sign-in) with one model of
the case list's 14 columns (indexes on the number, the category and the received time) and a
stock ``ModelRestApi`` (``base_order`` newest first, ``search_columns`` number and category),
filled with the same generated cases as the Kesu database (bench/data.py, bulk loaded).
Measured, like Kesu's list, through the Flask test client: the default list, a category
(``eq``) filter and a ``ct`` (contains) search on the number. Prints one JSON object.
Run in its own process: its model must not meet Kesu's on the shared declarative base.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from flask import Flask  # noqa: E402
from flask_appbuilder import AppBuilder, Model  # noqa: E402
from flask_appbuilder.api import ModelRestApi  # noqa: E402
from flask_appbuilder.models.sqla.base import SQLA  # noqa: E402
from flask_appbuilder.models.sqla.interface import SQLAInterface  # noqa: E402

from bench import data  # noqa: E402
from bench.timing import measure, statement_counter  # noqa: E402

PASSWORD = "bench-bench"


class BareCase(Model):
    __tablename__ = "bare_case"
    id = sa.Column(sa.Integer, primary_key=True)
    number = sa.Column(sa.String(20), unique=True, nullable=False)
    business_line = sa.Column(sa.String(16), nullable=False)
    category = sa.Column(sa.String(64), nullable=False, index=True)
    channel = sa.Column(sa.String(32), nullable=False)
    status = sa.Column(sa.String(16), nullable=False)
    priority = sa.Column(sa.String(2), nullable=False)
    is_major = sa.Column(sa.Boolean, nullable=False)
    customer = sa.Column(sa.String(200), nullable=False)
    batch_no = sa.Column(sa.String(64))
    quantity = sa.Column(sa.Integer)
    received_at = sa.Column(sa.DateTime, nullable=False, index=True)
    description = sa.Column(sa.Text, nullable=False)
    updated_at = sa.Column(sa.DateTime, nullable=False)


COLUMNS = [c.name for c in BareCase.__table__.columns]


class BareCaseApi(ModelRestApi):
    resource_name = "case"
    datamodel = SQLAInterface(BareCase)
    base_order = ("received_at", "desc")
    search_columns = ["number", "category", "customer", "batch_no"]
    list_columns = COLUMNS
    page_size = 20


def make_app(url: str, folder: Path) -> Flask:
    app = Flask("bare_fab", instance_path=str(folder))
    app.config.update(
        SQLALCHEMY_DATABASE_URI=url,
        SECRET_KEY="bench-secret-key-long-enough-for-jwt-hmac",
        FAB_API_SWAGGER_UI=False,
        FAB_ADD_SECURITY_API=True,
        FAB_PASSWORD_HASH_METHOD=data.CHEAP_HASH,
        WTF_CSRF_ENABLED=False,
    )
    db = SQLA()
    db.init_app(app)
    with app.app_context():
        appbuilder = AppBuilder()
        appbuilder.init_app(app, db.session)
        appbuilder.add_api(BareCaseApi)
    app.bare_db = db
    return app


def build(url: str, folder: Path, n: int) -> float:
    start = time.perf_counter()
    app = make_app(url, folder)
    with app.app_context():
        app.bare_db.create_all()
        sm = app.appbuilder.sm
        sm.add_user("bench", "Bench", "Admin", "bench@example.com", sm.find_role("Admin"), PASSWORD)
        app.bare_db.session.remove()
        app.bare_db.engine.dispose()
    refs = [
        data.LineRefs(id=1, customers=list(range(n // 40 or 1))),
        data.LineRefs(id=2, customers=list(range(n // 40 or 1))),
    ]
    codes = {1: "B1", 2: "B2"}
    loader = data.Loader(url)
    ddls = loader.drop_indexes("bare_case")
    end = data_end()
    rows = (
        (
            r[0],  # id
            r[1],  # number
            codes[r[2]],
            r[3],  # category
            r[4],  # channel
            r[5],  # status
            r[8],  # priority
            r[10],  # is_major
            data.customer_name(r[13]),
            r[15],  # batch
            r[16],  # quantity
            r[17],  # received
            r[18],  # description
            r[25],  # updated
        )
        for r in (case.row for case in data.generate_cases(n, refs, end, with_deadlines=False))
    )
    loader.load("bare_case", COLUMNS, rows)
    loader.create_indexes(ddls)
    loader.finish()
    return time.perf_counter() - start


def data_end():
    import datetime as dt

    return dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)


def rison_list(filters: str = "") -> str:
    q = "(page:0,page_size:20" + (f",filters:!({filters})" if filters else "") + ")"
    return f"/api/v1/case/?q={q}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--cases", type=int, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--budget", type=float, default=20.0)
    parser.add_argument("--build", action="store_true", help="build the table first")
    parser.add_argument("--number", default="KS-", help="the contains search's term")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kesu-bare-") as tmp:
        folder = Path(tmp)
        built = build(args.url, folder, args.cases) if args.build else None
        app = make_app(args.url, folder)
        with app.app_context():
            counter = statement_counter(app.bare_db.engine)
            client = app.test_client()
            resp = client.post(
                "/api/v1/security/login",
                json={"username": "bench", "password": PASSWORD, "provider": "db"},
            )
            token = resp.get_json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            requests = {
                "default": rison_list(),
                "category": rison_list("(col:category,opr:eq,value:logistics)"),
                "contains": rison_list(f"(col:number,opr:ct,value:'{args.number}')"),
            }
            out = {"build_seconds": built}
            for key, url in requests.items() if args.requests else ():
                out[key] = measure(
                    client, url, headers, counter, args.rounds, args.requests, args.budget
                )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
