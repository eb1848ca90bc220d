"""Serving Kesu over HTTP: waitress (one process) or gunicorn (several preloaded processes).

``kesu serve`` runs waitress: one process answering with ``--threads`` threads, on every
platform. ``kesu serve --workers N`` (N >= 2) runs gunicorn where it is installed (Linux,
macOS; it is not a Windows server): one master process that builds the application once
(``preload_app``) and forks N workers from it. Each worker is a *gthread* worker answering
with ``--threads`` threads, so ``--threads`` means the same in both servers and a slow request
(an export, an upload, an SMTP server taking its time) neither blocks a whole process nor gets
the worker killed for missing its heartbeat, as a *sync* worker would be after ``timeout``.

Nothing is written at start-up: the application factory does not sync permissions
(``FAB_UPDATE_PERMS`` is off) nor touch the schema (``kesu init`` does both, once per upgrade),
so forking N workers from one preloaded application costs N forks, not N start-ups. The
master's database connections (used for the orphan-upload cleanup before serving) are closed
before the workers are forked, and every worker drops whatever pool it inherited, so no
connection is ever shared by two processes.

Where gunicorn cannot run, asking for several workers still serves: waitress answers with as
many threads as the workers would have had together, and says so.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from flask import Flask, has_app_context

from core.extensions import db

WORKER_CLASS = "gthread"


def gunicorn_available() -> bool:
    """Whether gunicorn can serve here (installed, and not on Windows)."""
    if sys.platform == "win32":
        return False
    try:
        import gunicorn.app.base  # noqa: F401
    except ImportError:
        return False
    return True


def release_connections(app: Flask, *, close: bool = True) -> None:
    """Forget every pooled database connection of ``app``.

    ``close=True`` (the master, before forking) ends the current session and closes them;
    ``close=False`` (a worker just after the fork) only drops the inherited pool without
    touching the sockets, which still belong to the parent (SQLAlchemy's recipe for
    ``os.fork``).
    """
    if close and has_app_context():
        db.session.remove()  # gives back a connection the command's session may hold
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=close)


def serve(app: Flask, host: str, port: int, threads: int, workers: int = 1) -> None:
    """Serve ``app`` until stopped: gunicorn with ``workers`` processes when asked for two or
    more and available, else waitress."""
    if workers >= 2 and gunicorn_available():
        click.echo(
            f"Serving Kesu on http://{host}:{port}/ with {workers} gunicorn workers of "
            f"{threads} threads (Ctrl+C to stop)"
        )
        run_gunicorn(app, host, port, workers, threads)
        return
    if workers >= 2:
        threads = threads * workers
        click.echo(
            f"gunicorn is not available here (it does not run on Windows; elsewhere: "
            f"pip install gunicorn): serving with one waitress process of {threads} threads "
            f"instead of {workers} workers",
            err=True,
        )
    from waitress import serve as waitress_serve

    click.echo(f"Serving Kesu on http://{host}:{port}/  (Ctrl+C to stop)")
    waitress_serve(app, host=host, port=port, threads=threads)


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    """Kesu's gunicorn settings (everything else keeps gunicorn's default)."""
    return {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": workers,
        "worker_class": WORKER_CLASS,
        "threads": threads,
        "preload_app": True,
        "proc_name": "kesu",
        "errorlog": "-",
        # Which proxies may say a request came over HTTPS is KESU_PROXY_FIX's decision
        # (core.auth_guard), the same under waitress and gunicorn: gunicorn trusts nobody.
        "forwarded_allow_ips": "",
        # No runtime control socket (gunicorn 24+): it would sit in the service user's home,
        # shared by every Kesu on the host; systemd and signals manage the server.
        "control_socket_disable": True,
    }


def run_gunicorn(app: Flask, host: str, port: int, workers: int, threads: int) -> None:
    """Run gunicorn's master in this process until it is stopped (SIGTERM, SIGINT)."""
    from gunicorn.app.base import BaseApplication

    def post_fork(_server, _worker) -> None:
        release_connections(app, close=False)

    class KesuGunicorn(BaseApplication):
        def load_config(self) -> None:
            for name, value in gunicorn_options(host, port, workers, threads).items():
                if name in self.cfg.settings:  # settings newer than gunicorn 22 are optional
                    self.cfg.set(name, value)
            self.cfg.set("post_fork", post_fork)

        def load(self) -> Flask:
            return app

    release_connections(app)
    KesuGunicorn(prog="kesu serve").run()
