"""What every answer tells the browser: where scripts may come from, HTTPS only, no framing.

Pages load their scripts and styles from ``/static`` alone (the esbuild bundle), never inline,
so the Content-Security-Policy allows ``'self'`` and nothing else for scripts. Styles also
allow inline ``style`` attributes: bpmn-js sets them on the diagram it draws. HSTS is sent
only on an answer that went out over HTTPS (directly, or as a trusted proxy says), since a
browser that got it over plain HTTP from an intranet host could be locked out of that host.
The session cookie is ``Secure`` on HTTPS by the same rule, unless the setting forces it.
"""

from __future__ import annotations

from flask import Flask, Response, request

from webapp.config import ConfigError

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
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
HSTS_SECONDS = 365 * 24 * 3600
SECURE_COOKIE_CHOICES = ("auto", "always", "never")


def secure_cookies(raw: str) -> str:
    """Check a PARKFLOW_SECURE_COOKIES value."""
    value = raw.strip().lower()
    if value not in SECURE_COOKIE_CHOICES:
        raise ConfigError(
            f"PARKFLOW_SECURE_COOKIES must be one of "
            f"{', '.join(SECURE_COOKIE_CHOICES)}, not {raw!r}"
        )
    return value


def cookie_is_secure(app: Flask) -> bool:
    """Whether the session cookie of this request's answer is marked ``Secure``."""
    choice = app.config["PARKFLOW_SECURE_COOKIES"]
    return choice == "always" or (choice == "auto" and request.is_secure)


def add_headers(response: Response) -> Response:
    """Set the security headers of every answer (a view's own choice stays)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_SECONDS}")
    return response


def init_app(app: Flask) -> None:
    """Send the headers with every answer of ``app``."""
    app.after_request(add_headers)


__all__ = [
    "CONTENT_SECURITY_POLICY",
    "add_headers",
    "cookie_is_secure",
    "init_app",
    "secure_cookies",
]
