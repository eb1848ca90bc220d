"""Messages stored now and read later, each reader in their own language.

A message that is kept in the database (an acceptance issue, a proposal's note, a notification)
is stored as its msgid and variables, and translated when it is shown.
"""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString, get_locale, gettext


def join_list(parts) -> str:
    """Items of a list as the reader's language joins them (、 in Chinese)."""
    return ("、" if str(get_locale() or "zh").startswith("zh") else ", ").join(parts)


def msgid_of(message: Any) -> tuple[str, dict[str, Any]]:
    """The msgid and variables of a lazy translation, or a plain string with none."""
    if isinstance(message, LazyString):
        return str(message._args[0]), dict(message._kwargs)
    return str(message), {}


def translated(msgid: str | None, params: dict[str, Any] | None = None) -> str | None:
    """The stored message in the current reader's language (text with no msgid stays as is).

    Always a plain ``str``, never markup: templates escape it, so a stored note that is user
    text (a compensation line's note, a responsible person) shows as text. Use this, never
    the template's ``_()``, for anything read from the database.
    """
    if not msgid:
        return msgid
    return str(gettext(msgid, **params) if params else gettext(msgid))


def translated_issues(issues) -> list[dict[str, Any]]:
    """Stored acceptance issues as readers get them: ``{code, field?, message}``."""
    out = []
    for issue in issues or []:
        item = {"code": issue["code"], "message": translated(issue["message"], issue.get("params"))}
        if issue.get("field"):
            item["field"] = issue["field"]
        out.append(item)
    return out
