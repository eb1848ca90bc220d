"""``kesu report``: management reports from the shell (as the system actor)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext


@click.group("report")
def report_group() -> None:
    """Management reports of a business line (the monthly report, accountability)."""


@report_group.command("monthly")
@click.option("--line", "line", required=True, help="business line code")
@click.option("--month", required=True, help="the month, YYYY-MM (the line's time zone)")
@click.option("-o", "--output", "out", required=True, help="the workbook: a .xlsx file")
@click.option("--lang", default=None, help="the workbook's language: zh_CN (default) or en")
@with_appcontext
def report_monthly(line: str, month: str, out: str, lang: str | None) -> None:
    """Write the monthly report of a line as an Excel workbook with charts."""
    from flask import current_app
    from flask_babel import force_locale

    from core.services import report_monthly as service
    from core.services import report_monthly_xlsx
    from core.services.access import SYSTEM
    from core.services.errors import ServiceError

    if Path(out).suffix.lower() != ".xlsx":
        raise click.BadParameter("the file must end in .xlsx", param_hint="-o")
    languages = current_app.config["LANGUAGES"]
    if lang is not None and lang not in languages:
        raise click.BadParameter(f"one of {', '.join(languages)}", param_hint="--lang")
    with force_locale(lang or current_app.config["BABEL_DEFAULT_LOCALE"]):
        try:
            report = service.monthly(SYSTEM, line, month)
        except ServiceError as exc:
            fields = "; ".join(f"{k}: {' '.join(v)}" for k, v in (exc.errors or {}).items())
            raise click.ClickException(fields or str(exc.message)) from None
        Path(out).write_bytes(report_monthly_xlsx.workbook(report))
    click.echo(
        f"{report['business_line']} {report['month']}: {report['total']} cases, "
        f"{report['closed']} closed, {report['open_at_end']} open at the end -> {out}"
    )


@report_group.command("accountability")
@click.option("--line", "line", default=None, help="business line code (default: every line)")
@click.option("--from", "first", required=True, help="first day, YYYY-MM-DD (line-local)")
@click.option("--to", "last", required=True, help="last day, YYYY-MM-DD (line-local)")
@click.option("-o", "--output", "out", required=True, help="the workbook: a .xlsx file")
@click.option("--lang", default=None, help="the workbook's language: zh_CN (default) or en")
@with_appcontext
def report_accountability(
    line: str | None, first: str, last: str, out: str, lang: str | None
) -> None:
    """Write the accountability report (per department and person) as an Excel workbook."""
    from flask import current_app
    from flask_babel import force_locale

    from core.services import accountability, accountability_xlsx
    from core.services.access import SYSTEM
    from core.services.errors import ServiceError

    if Path(out).suffix.lower() != ".xlsx":
        raise click.BadParameter("the file must end in .xlsx", param_hint="-o")
    languages = current_app.config["LANGUAGES"]
    if lang is not None and lang not in languages:
        raise click.BadParameter(f"one of {', '.join(languages)}", param_hint="--lang")
    with force_locale(lang or current_app.config["BABEL_DEFAULT_LOCALE"]):
        try:
            report = accountability.report(SYSTEM, line, first, last)
        except ServiceError as exc:
            fields = "; ".join(f"{k}: {' '.join(v)}" for k, v in (exc.errors or {}).items())
            raise click.ClickException(fields or str(exc.message)) from None
        Path(out).write_bytes(accountability_xlsx.workbook(report))
    click.echo(
        f"{report['business_line'] or 'all lines'} {report['from']}..{report['to']}: "
        f"{len(report['departments'])} departments, {len(report['people'])} people -> {out}"
    )
