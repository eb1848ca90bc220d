"""E-mail to users, through the SMTP server named by ``KESU_SMTP_HOST`` (none: no e-mail)."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy.orm import Session

from core.extensions import db
from core.models import BusinessLine, KesuUser

log = logging.getLogger(__name__)


def configured() -> bool:
    return bool(current_app.config.get("KESU_SMTP_HOST"))


def send(messages: Iterable[EmailMessage]) -> int:
    """Send messages over one SMTP connection; returns how many were sent.

    A failing server is logged, never raised: the in-app notification already went out.
    """
    messages = list(messages)
    if not messages or not configured():
        return 0
    cfg = current_app.config
    try:
        with smtplib.SMTP(cfg["KESU_SMTP_HOST"], cfg["KESU_SMTP_PORT"], timeout=30) as smtp:
            if cfg.get("KESU_SMTP_STARTTLS"):
                smtp.starttls()
            if cfg.get("KESU_SMTP_USER"):
                smtp.login(cfg["KESU_SMTP_USER"], cfg.get("KESU_SMTP_PASSWORD") or "")
            for message in messages:
                smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("e-mail not sent: %s", exc)
        return 0
    return len(messages)


def send_overdue_digest(
    line: BusinessLine, count: int, users: Iterable[KesuUser], link: str
) -> int:
    """E-mail each user (who has an address) that ``count`` deadlines passed on ``line``."""
    if not configured():
        return 0
    cfg = current_app.config
    out = []
    for user in users:
        if not user.email:
            continue
        with force_locale(line.locale or "zh_CN"):
            subject = gettext("[Kesu] Overdue complaints on %(line)s", line=line.name)
            body = "\n\n".join(
                [
                    gettext(
                        "%(count)s deadlines passed on %(line)s; the cases are escalated to you.",
                        count=count,
                        line=line.name,
                    ),
                    gettext("Open the overdue cases: %(url)s", url=cfg["KESU_BASE_URL"] + link),
                ]
            )
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = cfg["KESU_MAIL_FROM"]
        message["To"] = user.email
        message.set_content(body)
        out.append(message)
    return send(out)


def compose(user: KesuUser, subject: str, body: str) -> EmailMessage | None:
    """A message to ``user`` (None without an address): ``subject`` and ``body`` are already
    in the recipient's language."""
    if not user.email:
        return None
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config["KESU_MAIL_FROM"]
    message["To"] = user.email
    message.set_content(body)
    return message


# -- sent once the write transaction commits ------------------------------------------------

_OUTBOX = "kesu_mail_outbox"


def send_after_commit(messages: Iterable[EmailMessage | None]) -> None:
    """Queue messages on the current write transaction: sent, over one connection, once it
    commits; dropped if it rolls back (a refused or failed action mails nobody)."""
    messages = [m for m in messages if m is not None]
    if messages and configured():
        db.session().info.setdefault(_OUTBOX, []).extend(messages)


@sa.event.listens_for(Session, "after_commit")
def _send_outbox(session: Session) -> None:
    messages = session.info.pop(_OUTBOX, None)
    if messages:
        send(messages)


@sa.event.listens_for(Session, "after_rollback")
def _drop_outbox(session: Session) -> None:
    session.info.pop(_OUTBOX, None)
