"""Concurrency on both engines, against several real ``kesu serve`` processes on one database.

100 parallel registrations (half with a new customer, half with an existing one) must all be
created with gap-free numbers and no 5xx (no deadlock, no "database is locked"); two edits of
the same version must end in exactly one success and one 409.
"""

from __future__ import annotations

import re
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from tests.conftest import case_body
from tests.procserver import ProcServers, call, login

REGISTRATIONS = 100
WORKERS = 20
NUMBER = re.compile(r"^KS-(\d{6})-(\d{5})$")


def case_numbers(database_url: str) -> list[str]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as con:
            return list(con.execute(sa.text("SELECT number FROM kesu_case")).scalars())
    finally:
        engine.dispose()


def assert_gap_free(numbers: list[str]) -> None:
    """Per month, the numbers are exactly 1..n: none skipped, none twice."""
    by_period: dict[str, list[int]] = defaultdict(list)
    for number in numbers:
        match = NUMBER.match(number)
        assert match, number
        by_period[match[1]].append(int(match[2]))
    for period, seq in by_period.items():
        assert sorted(seq) == list(range(1, len(seq) + 1)), period


def test_parallel_registrations_all_created_with_gap_free_numbers(served_db):
    instance, url = served_db
    with ProcServers(instance, url, count=3) as servers:
        token = login(servers.urls[0], "agent")

        def register(i: int):
            if i % 2:
                customer = {"name": f"新客户 {i}", "kind": "dealer", "phone": "13800000000"}
            else:
                customer = {"name": "上海经销商", "kind": "dealer"}  # the seeded one
            body = case_body(customer=customer, batch_no=f"C{i:04d}")
            base = servers.urls[i % len(servers.urls)]
            return call(base + "/api/v1/case/", "POST", body, token)

        with ThreadPoolExecutor(WORKERS) as pool:
            results = list(pool.map(register, range(REGISTRATIONS)))

    statuses = sorted(status for status, _, _ in results)
    failures = [(s, b) for s, b, _ in results if s != 201]
    assert statuses == [201] * REGISTRATIONS, failures[:5]
    numbers = [body["result"]["number"] for _, body, _ in results]
    assert len(set(numbers)) == REGISTRATIONS
    stored = case_numbers(url)
    assert sorted(stored) == sorted(numbers)
    assert_gap_free(stored)


def test_two_stale_edits_one_wins_one_conflicts(served_db):
    instance, url = served_db
    with ProcServers(instance, url, count=2) as servers:
        a, b = servers.urls
        token = login(a, "agent")
        status, created, _ = call(a + "/api/v1/case/", "POST", case_body(), token)
        assert status == 201, created
        case = created["result"]
        path = f"/api/v1/case/{case['id']}"

        def edit(args):
            base, text = args
            return call(
                base + path,
                "PUT",
                {"version": case["version"], "description": text},
                token,
            )

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(edit, [(a, "第一位编辑"), (b, "第二位编辑")]))

    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200, 409], results
    conflict = next(body for status, body, _ in results if status == 409)
    assert "version" in conflict.get("errors", {})
