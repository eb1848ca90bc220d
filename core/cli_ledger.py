"""``kesu ledger``: the ledger (台帐) of a business line as an Excel workbook (system actor)."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path

import click
from flask.cli import with_appcontext


@click.command("ledger")
@click.option("--line", "line", required=True, help="business line code")
@click.option("--from", "start", default=None, help="first day received (YYYY-MM-DD, line-local)")
@click.option("--to", "end", default=None, help="last day received (YYYY-MM-DD, inclusive)")
@click.option("-o", "--output", "out", required=True, help="the workbook (.xlsx)")
@click.option("--lang", default=None, help="the headers' language: zh_CN (default) or en")
@with_appcontext
def ledger_command(line, start, end, out, lang) -> None:
    """Export the ledger of a business line's cases received in a period."""
    from flask import current_app
    from flask_babel import force_locale

    from core.services import ledger, ledger_export
    from core.services.access import SYSTEM
    from core.services.errors import ServiceError

    if Path(out).suffix.lower() != ".xlsx":
        raise click.BadParameter("the file must end in .xlsx", param_hint="-o")
    languages = current_app.config["LANGUAGES"]
    if lang is not None and lang not in languages:
        raise click.BadParameter(f"one of {', '.join(languages)}", param_hint="--lang")
    args = {"business_line": line, "from": start, "to": end}
    try:
        with force_locale(lang or current_app.config["BABEL_DEFAULT_LOCALE"]):
            filters = ledger.clean_filters(SYSTEM, {k: v for k, v in args.items() if v})
            total = ledger.count(SYSTEM, filters)
            # A progress bar on a terminal only (a pipe or a log gets the result line alone).
            bar = (
                click.progressbar(length=total, label="Exporting", file=sys.stderr)
                if total and sys.stdout.isatty()
                else nullcontext()
            )
            with bar as progress:
                rows = ledger_export.write_ledger(
                    SYSTEM,
                    filters,
                    Path(out),
                    progress=progress.update if progress is not None else None,
                )
    except ServiceError as exc:
        errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in (exc.errors or {}).items())
        raise click.ClickException(
            f"{exc.message} ({errors})" if errors else str(exc.message)
        ) from None
    click.echo(f"{rows} cases -> {out}")
