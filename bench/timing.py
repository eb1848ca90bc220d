"""Timing requests through a Flask test client: rounds of requests, p50/p95, SQL statements."""

from __future__ import annotations

import math
import os
import platform
import statistics
import time

import sqlalchemy as sa


class StatementCounter:
    """Counts the SQL statements an engine sends (``before_cursor_execute``)."""

    def __init__(self, engine):
        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args, **kwargs) -> None:
        self.count += 1


def statement_counter(engine) -> StatementCounter:
    return StatementCounter(engine)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


class RequestFailed(RuntimeError):
    pass


def timed_get(client, url: str, headers: dict | None, counter: StatementCounter | None):
    before = counter.count if counter else 0
    start = time.perf_counter()
    resp = client.get(url, headers=headers or {})
    seconds = time.perf_counter() - start
    if resp.status_code != 200:
        raise RequestFailed(f"GET {url}: {resp.status_code} {resp.get_data(as_text=True)[:300]}")
    return resp, seconds, (counter.count - before) if counter else None


def measure(
    client,
    url: str,
    headers: dict | None,
    counter: StatementCounter | None,
    rounds: int,
    requests: int,
    budget: float,
) -> dict:
    """Two warm-up requests (the second one timed to size the rounds), then ``rounds`` rounds of ``requests`` requests; a round holds
    fewer (at least 3) when they would take more than ``budget`` seconds. p50 and p95 in ms
    are the medians over the rounds of each round's p50 and p95."""
    timed_get(client, url, headers, counter)  # warm-up: caches, templates, connection
    _, first, statements = timed_get(client, url, headers, counter)  # sizes the rounds
    per_round = requests
    if first * requests > budget:
        per_round = max(min(3, requests), int(budget / first))
    p50s, p95s, counts = [], [], []
    for _ in range(rounds):
        times = []
        for _ in range(per_round):
            _, seconds, statements = timed_get(client, url, headers, counter)
            times.append(seconds * 1000)
            counts.append(statements)
        p50s.append(statistics.median(times))
        p95s.append(percentile(times, 0.95))
    return {
        "p50": statistics.median(p50s),
        "p95": statistics.median(p95s),
        "statements": max(counts) if counter else None,
        "requests": per_round,
        "rounds": rounds,
    }


def machine(engine_version: str) -> str:
    return f"{os.cpu_count()} cores, Python {platform.python_version()}, {engine_version}"


def ms(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 1000:
        return f"{value:,.0f} ms"
    if value >= 10:
        return f"{value:.0f} ms"
    return f"{value:.1f} ms"
