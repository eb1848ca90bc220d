"""Security headers on every response: a Content-Security-Policy and frame/sniffing protection.

Scripts run only from the application's own origin or, for the few inline scripts
Flask-AppBuilder's templates carry (list actions, search filters, Swagger UI), when they bear
this request's nonce: FAB's templates print ``csp_nonce()`` into ``<script nonce=...>`` when that
function is defined, so it is installed as a Jinja global here. A script injected through user
text has no nonce and does not run, even where escaping failed. Inline ``style`` attributes stay
allowed: the widgets (select2, the date picker) set them, and styles cannot run code.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g

NONCE_BYTES = 18


def csp_nonce() -> str:
    """This request's script nonce (one per request, made on first use)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(NONCE_BYTES)
    return nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def _set_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    return response


def install_security_headers(app: Flask) -> None:
    """Give every response the headers, and the templates ``csp_nonce()``."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(_set_headers)
