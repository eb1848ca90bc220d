"""The ``kesu`` command on a fresh database: init, demo, create-user, serve."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import sqlalchemy as sa

from core.app import create_app
from core.extensions import db
from core.models import BusinessLine, Case, KesuUser
from tests.procserver import free_port


def fresh_app(tmp_path):
    return create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True})


def test_init_then_demo_on_an_empty_instance(tmp_path):
    app = fresh_app(tmp_path)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "instance" / "kesu.db").exists()
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert runner.invoke(args=["init"]).exit_code == 0  # running it again is harmless

    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "kesu-demo-2026" in result.output and "zhuguan" in result.output
    with app.app_context():
        counts = (
            db.session.scalar(sa.select(sa.func.count()).select_from(Case)),
            db.session.scalar(sa.select(sa.func.count()).select_from(KesuUser)),
            db.session.scalar(sa.select(sa.func.count()).select_from(BusinessLine)),
        )
        categories = set(db.session.scalars(sa.select(Case.category)))
        statuses = set(db.session.scalars(sa.select(Case.status)))
    assert counts[0] >= 5 and counts[2] == 2
    assert {"logistics", "product_quality", "policy_returns", "terminal_consumer"} <= categories
    assert {"new", "investigating", "closed", "rejected", "on_hold"} <= statuses
    assert runner.invoke(args=["demo", "--no-serve"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == counts[0]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(KesuUser)) == counts[1]
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()


def test_create_user(tmp_path):
    app = fresh_app(tmp_path)
    runner = app.test_cli_runner()
    runner.invoke(args=["init"])
    result = runner.invoke(
        args=[
            "create-user",
            "--username",
            "li",
            "--password",
            "long-enough-1",
            "--role",
            "CS Agent",
        ]
    )
    assert result.exit_code == 0, result.output
    again = runner.invoke(
        args=[
            "create-user",
            "--username",
            "li",
            "--password",
            "long-enough-1",
            "--role",
            "CS Agent",
        ]
    )
    assert again.exit_code != 0
    bad = runner.invoke(
        args=["create-user", "--username", "x", "--password", "short", "--role", "QA"]
    )
    assert bad.exit_code != 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(KesuUser)) == 1
        db.engine.dispose()


def test_kesu_serve_answers_on_loopback(tmp_path):
    env = {**os.environ, "KESU_INSTANCE_PATH": str(tmp_path / "instance")}
    kesu = [sys.executable, "-c", "from core.cli import main; main()"]
    subprocess.run([*kesu, "init"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [*kesu, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/") as resp:
                    body = resp.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert body is not None and "password" in body
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()
