"""``kesu export``: the finance export batches from the shell (as the system actor)."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path

import click
from flask.cli import with_appcontext

FORMATS = (".xlsx", ".csv")


@click.group("export")
def export_group() -> None:
    """Credit-note and reshipment export batches (FX-YYYYMM-NNNN)."""


def _format(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise click.BadParameter("the file must end in .xlsx or .csv", param_hint="-o")
    return suffix[1:]


def _fail(exc) -> click.ClickException:
    errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in (exc.errors or {}).items())
    problems = ", ".join(p.get("code", "") for p in exc.extra.get("problems", []))
    detail = " ".join(x for x in (errors and f"({errors})", problems and f"[{problems}]") if x)
    return click.ClickException(f"{exc.message} {detail}".strip())


def _export(kind: str, line: str, start: str | None, end: str | None, out: str) -> None:
    from core.services import finance
    from core.services.access import SYSTEM
    from core.services.errors import ServiceError

    fmt = _format(out)
    body = {"kind": kind, "business_line": line, "approved_from": start, "approved_to": end}
    body = {k: v for k, v in body.items() if v is not None}
    try:
        count = finance.pending_count(SYSTEM, kind, line, start, end)
        # A progress bar on a terminal only (a pipe or a log gets the result line alone).
        bar = (
            click.progressbar(length=count, label="Exporting", file=sys.stderr)
            if count and sys.stdout.isatty()
            else nullcontext()
        )
        with bar as progress:
            batch = finance.export(
                SYSTEM, body, progress=progress.update if progress is not None else None
            )
    except ServiceError as exc:
        raise _fail(exc) from None
    Path(out).write_bytes(batch.xlsx if fmt == "xlsx" else batch.csv)
    click.echo(f"{batch.number} {batch.line_count} lines, total {batch.total} -> {out}")


_options = [
    click.option("--line", "line", required=True, help="business line code"),
    click.option("--from", "start", default=None, help="first day approved (YYYY-MM-DD)"),
    click.option("--to", "end", default=None, help="last day approved (YYYY-MM-DD, inclusive)"),
    click.option("-o", "--output", "out", required=True, help="the file: .xlsx or .csv"),
]


def _with_options(f):
    for option in reversed(_options):
        f = option(f)
    return f


@export_group.command("credit-notes")
@_with_options
@with_appcontext
def export_credit_notes(line: str, start: str | None, end: str | None, out: str) -> None:
    """Export the line's approved credit notes, adjustments, refunds and charges."""
    _export("credit_notes", line, start, end, out)


@export_group.command("reshipments")
@_with_options
@with_appcontext
def export_reshipments(line: str, start: str | None, end: str | None, out: str) -> None:
    """Export the line's approved reshipments and zero-price free-goods orders."""
    _export("reshipments", line, start, end, out)


@export_group.command("list")
@click.option("--line", "line", default=None, help="only this business line")
@with_appcontext
def export_list(line: str | None) -> None:
    """The batches, newest first."""
    from core.services import finance
    from core.services.access import SYSTEM
    from core.services.errors import ServiceError

    try:
        found = finance.batches(SYSTEM, line)
    except ServiceError as exc:
        raise _fail(exc) from None
    for b in found:
        data = finance.batch_json(b)
        void = f"  VOID {data['voided_at']}" if b.voided_at else ""
        click.echo(
            f"{b.number}  {b.kind:<12} {data['business_line']:<8} {b.line_count:>7} "
            f"{data['total']:>14}  {data['created_at']}  {data['created_by']}{void}"
        )


@export_group.command("download")
@click.argument("number")
@click.option("-o", "--output", "out", required=True, help="the file: .xlsx or .csv")
@with_appcontext
def export_download(number: str, out: str) -> None:
    """Write a batch's stored file (the same bytes as when it was made)."""
    from core.services import finance
    from core.services.access import SYSTEM
    from core.services.errors import ServiceError

    fmt = _format(out)
    try:
        batch = finance.batch_by_number(SYSTEM, number)
        content, _name, _type = finance.batch_file(SYSTEM, batch.id, fmt)
    except ServiceError as exc:
        raise _fail(exc) from None
    Path(out).write_bytes(content)
    click.echo(f"{batch.number} -> {out}")
