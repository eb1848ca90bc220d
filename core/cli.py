"""The ``kesu`` command: a Flask CLI group over the application."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from core.app import create_app
from core.cli_export import export_group
from core.cli_ledger import ledger_command
from core.cli_report import report_group
from core.services.uploads import ORPHAN_GRACE_MINUTES


def _create_app(*_args, **_kwargs):
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def cli() -> None:
    """Kesu (客诉): customer-complaint handling."""


def main() -> None:
    cli(prog_name="kesu")


def register_commands(app) -> None:
    """Attach Kesu's commands to the app (``kesu`` shows them; so does ``flask --app``)."""
    for command in (
        init_command,
        create_user_command,
        plugins_group,
        positions_group,
        audit_group,
        sweep_command,
        cleanup_uploads_command,
        calendar_group,
        serve_command,
        demo_command,
        export_group,
        report_group,
        ledger_command,
    ):
        app.cli.add_command(command)


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Migrate the database and write roles and permissions (run before serving)."""
    from core.services.setup import init_database

    roles = init_database()
    click.echo(f"Database ready at {current_app.config['SQLALCHEMY_DATABASE_URI']}")
    click.echo(f"Roles: {', '.join(roles)}")


@click.command("create-user")
@click.option("--username", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True, confirmation_prompt=True)
@click.option(
    "--role", "roles", multiple=True, required=True, help="Role name; repeat for several."
)
@click.option("--line", "lines", multiple=True, help="Business line code; repeat for several.")
@click.option("--department", default=None, help="Department code.")
@click.option("--email", default=None)
@click.option("--name", default=None, help="The whole name, surname first (e.g. 李客服).")
@with_appcontext
def create_user_command(username, password, roles, lines, department, email, name):
    """Create a staff account."""
    from core.services.access import SYSTEM
    from core.services.errors import ServiceError
    from core.services.setup import create_user

    try:
        create_user(
            SYSTEM,
            username=username,
            password=password,
            roles=roles,
            lines=lines,
            department=department,
            email=email,
            name=name,
        )
    except ServiceError as exc:
        raise click.ClickException(f"{exc.message} {exc.errors or ''}".strip()) from None
    click.echo(f"Created user {username}")


@click.group("positions")
def positions_group() -> None:
    """Approval positions per business line (cs_supervisor, marketing_director, ...)."""


@positions_group.command("grant")
@click.argument("username")
@click.argument("line")
@click.argument("position")
@with_appcontext
def positions_grant(username: str, line: str, position: str) -> None:
    """Give USERNAME the POSITION on business line LINE."""
    from core.services import positions
    from core.services.access import SYSTEM
    from core.services.errors import ServiceError

    try:
        changed = positions.grant(SYSTEM, username, line, position)
    except ServiceError as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(
        f"{username} is {position} on {line}"
        if changed
        else f"{username} already is {position} on {line}"
    )


@positions_group.command("list")
@with_appcontext
def positions_list() -> None:
    """Every position held, per business line."""
    import sqlalchemy as sa

    from core.extensions import db
    from core.models import LinePosition

    for row in db.session.scalars(sa.select(LinePosition).order_by(LinePosition.business_line_id)):
        click.echo(f"{row.business_line.code:<12} {row.position:<24} {row.user.username}")


@click.group("plugins")
def plugins_group() -> None:
    """List plugins, and switch them on or off per business line."""


@plugins_group.command("list")
@with_appcontext
def plugins_list() -> None:
    """Every installed plugin with its version, dependencies and state per line."""
    from core.services.lines import plugin_matrix

    for row in plugin_matrix():
        d = row["descriptor"]
        kind = "category" if d.category else "cross-cutting"
        depends = ", ".join(d.depends) or "-"
        click.echo(
            f"{d.key:<20} {d.version:<8} {kind:<14} {d.name_zh} / {d.name_en}  depends: {depends}"
        )
        for code, enabled in row["lines"].items():
            click.echo(f"    {code:<16} {'enabled' if enabled else 'disabled'}")


def _switch(enable: bool, key: str, line: str) -> None:
    from core.services import lines
    from core.services.access import SYSTEM
    from core.services.errors import ServiceError

    try:
        changed = (lines.enable_plugin if enable else lines.disable_plugin)(SYSTEM, line, key)
    except ServiceError as exc:
        raise click.ClickException(str(exc.message)) from None
    state = "enabled" if enable else "disabled"
    click.echo(f"{key} {state} on {line}" if changed else f"{key} was already {state} on {line}")


@plugins_group.command("enable")
@click.argument("key")
@click.option("--line", required=True, help="Business line code.")
@with_appcontext
def plugins_enable(key: str, line: str) -> None:
    """Switch plugin KEY on for a business line."""
    _switch(True, key, line)


@plugins_group.command("disable")
@click.argument("key")
@click.option("--line", required=True, help="Business line code.")
@with_appcontext
def plugins_disable(key: str, line: str) -> None:
    """Switch plugin KEY off for a business line (its cases stay readable)."""
    _switch(False, key, line)


@plugins_group.command("settings")
@click.argument("key")
@click.option("--line", required=True, help="Business line code.")
@click.argument("values", nargs=-1)
@with_appcontext
def plugins_settings(key: str, line: str, values: tuple[str, ...]) -> None:
    """Show or change the settings of plugin KEY (or kesu_core) on a line: name=value ..."""
    from core.services import lines
    from core.services.access import SYSTEM
    from core.services.errors import ServiceError

    pairs = dict(v.split("=", 1) for v in values if "=" in v)
    if len(pairs) != len(values):
        raise click.ClickException("give settings as name=value")
    try:
        if pairs:
            current = lines.update_plugin_settings(SYSTEM, line, key, pairs)
        else:
            current = lines.effective_settings(lines.get_line(line), key)
    except ServiceError as exc:
        raise click.ClickException(f"{exc.message} {exc.errors or ''}".strip()) from None
    for name, value in current.items():
        click.echo(f"{name} = {', '.join(value) if isinstance(value, list) else value}")


@click.command("sweep")
@click.option("--now", default=None, help="Sweep as of an earlier moment (ISO 8601; default: now).")
@with_appcontext
def sweep_command(now: str | None) -> None:
    """Flag and escalate every case whose running deadline has passed (for cron)."""
    import datetime as dt

    from core.services import sla_sweep

    moment = None
    if now:
        try:
            moment = dt.datetime.fromisoformat(now)
        except ValueError:
            raise click.BadParameter("an ISO 8601 moment such as 2026-11-25T09:00+08:00") from None
        if moment.tzinfo is None:
            raise click.BadParameter("give the moment with its offset, e.g. +08:00")
        if moment > dt.datetime.now(dt.UTC):
            # Escalating deadlines that have not passed yet would keep them from being
            # escalated when they do.
            raise click.BadParameter("the moment cannot be in the future")
    result = sla_sweep.sweep(None, moment)
    for code, count in result.per_line.items():
        click.echo(f"{code}: {count} deadlines escalated")
    click.echo(f"{result.total} deadlines escalated in all")
    _cleanup_uploads(ORPHAN_GRACE_MINUTES)
    _write_anchor()  # cron runs the sweep: the audit chain is anchored as regularly


def _cleanup_uploads(minutes: int) -> None:
    import datetime as dt

    from core.services.uploads import cleanup_orphans

    removed = cleanup_orphans(dt.timedelta(minutes=minutes))
    click.echo(f"{len(removed)} orphan upload files removed")


@click.command("cleanup-uploads")
@click.option(
    "--older-than-minutes",
    type=click.IntRange(0, 10**6),
    default=ORPHAN_GRACE_MINUTES,
    show_default=True,
    help="Only files unchanged for this long (uploads in flight are younger).",
)
@with_appcontext
def cleanup_uploads_command(older_than_minutes: int) -> None:
    """Remove evidence files no evidence record refers to (left by a crash mid-upload)."""
    _cleanup_uploads(older_than_minutes)


@click.group("calendar")
def calendar_group() -> None:
    """Working calendars of the business lines (holidays and make-up working days)."""


def _calendar_line(code: str):
    from core.services import lines
    from core.services.errors import ServiceError

    try:
        return lines.get_line(code)
    except ServiceError as exc:
        raise click.ClickException(str(exc.message)) from None


@calendar_group.command("list")
@click.option("--line", required=True, help="Business line code.")
@click.option("--year", type=click.IntRange(2000, 2100), required=True)
@with_appcontext
def calendar_list(line: str, year: int) -> None:
    """Show a line's holidays and make-up working days of a year."""
    from core.services import sla_calendar

    for row in sla_calendar.calendar_days(_calendar_line(line), year):
        click.echo(f"{row.day.isoformat()} {row.kind:<8} {row.note or ''}".rstrip())


@calendar_group.command("seed")
@click.option("--line", required=True, help="Business line code.")
@click.option(
    "--year",
    "years",
    type=click.IntRange(2000, 2100),
    multiple=True,
    help="Only this year; repeatable.",
)
@with_appcontext
def calendar_seed(line: str, years: tuple[int, ...]) -> None:
    """Add China's official holidays and make-up days (dates already entered are kept)."""
    from core.services import sla_calendar
    from core.services.access import SYSTEM

    added = sla_calendar.seed_china(SYSTEM, _calendar_line(line), years or None)
    click.echo(f"{added} dates added")


@calendar_group.command("import")
@click.option("--line", required=True, help="Business line code.")
@click.option(
    "--replace-year",
    type=click.IntRange(2000, 2100),
    default=None,
    help="Replace that year's dates.",
)
@click.argument("source", type=click.File(encoding="utf-8"))
@with_appcontext
def calendar_import(line: str, replace_year: int | None, source) -> None:
    """Import dates from SOURCE (a file, or - for standard input): one per line,
    ``2027-01-01 holiday 元旦`` or a range ``2027-02-10..2027-02-16 holiday 春节``."""
    from core.services import sla_calendar
    from core.services.access import SYSTEM
    from core.services.errors import ServiceError

    try:
        entries = sla_calendar.parse_day_list(source.read())
        written = sla_calendar.set_calendar_days(
            SYSTEM, _calendar_line(line), entries, replace_year=replace_year
        )
    except ServiceError as exc:
        details = "; ".join(m for ms in exc.errors.values() for m in ms)
        raise click.ClickException(details or str(exc.message)) from None
    click.echo(f"{written} dates written")


@click.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@click.option(
    "--anchor-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Check against the anchors in this file (default: KESU_AUDIT_ANCHOR_FILE).",
)
@with_appcontext
def audit_verify(anchor_file: Path | None) -> None:
    """Check the hash chain against its anchors; exit 1 naming what is broken."""
    from core.services.audit_anchor import verify_anchored

    check = verify_anchored(anchor_file)
    result = check.result
    if result.ok:
        anchors = "1 anchor" if check.anchors == 1 else f"{check.anchors} anchors"
        click.echo(f"Audit trail intact: {result.checked} events, checked against {anchors}.")
        if not check.anchors:
            click.echo("No anchor yet: run `kesu audit anchor` (or `kesu sweep`) regularly.")
        return
    where = f" at event {result.broken_id}" if result.broken_id is not None else ""
    click.echo(
        f"Audit trail BROKEN{where}: {result.reason} ({result.checked} events verified before it).",
        err=True,
    )
    sys.exit(1)


@audit_group.command("anchor")
@click.option(
    "--restart",
    is_flag=True,
    help="Anchor afresh although the earlier anchors are gone (after looking into why).",
)
@with_appcontext
def audit_anchor(restart: bool) -> None:
    """Append the chain's signed head to the anchor file and the log (for cron)."""
    _write_anchor(restart)


def _write_anchor(restart: bool = False) -> None:
    from core.services.audit_anchor import AnchorError, write_anchor

    try:
        point = write_anchor(restart=restart)
    except AnchorError as exc:
        click.echo(f"Audit anchor NOT written: {exc}", err=True)
        sys.exit(1)
    click.echo(point.label)


def _serve(host: str, port: int, threads: int, workers: int = 1) -> None:
    from core.serving import serve

    try:
        _cleanup_uploads(ORPHAN_GRACE_MINUTES)
    except Exception as exc:  # a server starts even if the cleanup cannot run now
        click.echo(f"Orphan upload cleanup skipped: {exc.__class__.__name__}", err=True)
    serve(current_app._get_current_object(), host, port, threads, workers)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Threads answering requests in each process.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Processes; 2 or more run gunicorn (Linux, macOS), else waitress.",
)
@with_appcontext
def serve_command(host: str, port: int, threads: int, workers: int) -> None:
    """Serve the application (run `kesu init` first; see docs/deploy.md)."""
    _serve(host, port, threads, workers)


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Only prepare the database and demo data.")
@with_appcontext
def demo_command(host: str, port: int, no_serve: bool) -> None:
    """Initialise, load demo data for every role and category, print the logins, serve."""
    from core.demo import DEMO_PASSWORD, load_demo
    from core.services.setup import init_database

    init_database()
    users = load_demo()
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for username, role, lines in users:
        click.echo(f"  {username:<14} {role:<18} {', '.join(lines) or 'all lines'}")
    if not no_serve:
        _serve(host, port, 8)
