"""The Bottle app: pages, login and first run, and the guards every request passes.

Every response, errors and static files included, carries the security headers (added by a
WSGI wrapper, so no route can forget them). Everything but ``/healthz``, ``/login``,
``/setup`` and ``/static/`` needs a session cookie; every write needs the session's CSRF
token (``X-CSRF-Token`` header for JSON, ``csrf_token`` field for forms). Login and first-run
forms, which come before any session, use a double-submit token cookie instead.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from pathlib import Path

import bottle

from affectra_edge.webapp.api import install_api, json_error
from affectra_edge.webapp.auth import PASSWORD_MIN_LENGTH, AuthStateError
from affectra_edge.webapp.context import WebContext

log = logging.getLogger(__name__)

SESSION_COOKIE = "affectra_session"
FORM_COOKIE = "affectra_form"
PUBLIC_PREFIXES = ("/healthz", "/login", "/setup", "/static/")
SECURITY_HEADERS = [
    ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
     "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
]
PAGES = {"/": ("live", "Live"), "/stats": ("stats", "Statistics"),
         "/cameras": ("cameras", "Cameras"), "/settings": ("settings", "Settings"),
         "/clear": ("clear", "Clear data")}


def create_app(ctx: WebContext) -> Callable:
    """The WSGI application: Bottle routes wrapped in the security-header layer."""
    app = bottle.Bottle()
    templates = [str(ctx.assets_dir / "templates")]

    def render(name: str, **values) -> str:
        values.setdefault("device_name", ctx.config.device.name)
        values.setdefault("csrf_token", "")
        values.setdefault("error", "")
        return bottle.template(name, template_lookup=templates, **values)

    @app.hook("before_request")
    def guard() -> None:
        path = bottle.request.path
        if path.startswith(PUBLIC_PREFIXES):
            return
        session = current_session(ctx)
        if session is None:
            if path.startswith("/api/"):
                raise json_error(401, "log in first")
            try:
                bottle.redirect("/setup" if not ctx.accounts.has_password() else "/login")
            except AuthStateError as exc:
                raise bottle.HTTPError(500, str(exc)) from None
        bottle.request.environ["affectra.session"] = session
        if bottle.request.method not in ("GET", "HEAD"):
            supplied = (bottle.request.get_header("X-CSRF-Token")
                        or bottle.request.forms.getunicode("csrf_token") or "")
            if not ctx.sessions.check_csrf(session, supplied):
                raise json_error(403, "missing or wrong CSRF token; reload the page")

    for route, (page, title) in PAGES.items():
        app.route(route, "GET", _page_handler(ctx, render, page, title))

    @app.get("/login")
    def login_page():
        if not ctx.accounts.has_password():
            bottle.redirect("/setup")
        return render("login", title="Log in", page="login", csrf_token=form_token())

    @app.post("/login")
    def login():
        check_form_token()
        client = bottle.request.remote_addr or "?"
        allowed, wait_s = ctx.limiter.allowed(client)
        if not allowed:
            bottle.response.status = 429
            return render("login", title="Log in", page="login", csrf_token=form_token(),
                          error=f"Too many failed attempts; try again in {wait_s:.0f} s.")
        if ctx.accounts.check(bottle.request.forms.getunicode("password") or ""):
            ctx.limiter.succeeded(client)
            start_session(ctx)
            bottle.redirect("/")
        ctx.limiter.failed(client)
        bottle.response.status = 401
        return render("login", title="Log in", page="login", csrf_token=form_token(),
                      error="Wrong password.")

    @app.get("/setup")
    def setup_page():
        if ctx.accounts.has_password():
            bottle.redirect("/login")
        return render("setup", title="First run", page="setup", csrf_token=form_token(),
                      min_password_length=PASSWORD_MIN_LENGTH)

    @app.post("/setup")
    def setup():
        check_form_token()
        if ctx.accounts.has_password():
            bottle.redirect("/login")
        client = bottle.request.remote_addr or "?"
        forms = bottle.request.forms
        password = forms.getunicode("password") or ""
        error = ""
        if not ctx.limiter.allowed(client)[0]:
            error = "Too many failed attempts; wait a few minutes."
        elif password != (forms.getunicode("password2") or ""):
            error = "The two passwords differ."
        else:
            try:
                ctx.accounts.complete_setup(forms.getunicode("code") or "", password)
            except ValueError as exc:
                ctx.limiter.failed(client)
                error = str(exc)
        if error:
            bottle.response.status = 400
            return render("setup", title="First run", page="setup", csrf_token=form_token(),
                          min_password_length=PASSWORD_MIN_LENGTH, error=error)
        log.warning("admin password set on the first-run page from %s", client)
        start_session(ctx)
        bottle.redirect("/")

    @app.post("/logout")
    def logout():
        token = bottle.request.get_cookie(SESSION_COOKIE)
        if token:
            ctx.sessions.destroy(token)
        bottle.response.delete_cookie(SESSION_COOKIE, path="/")
        bottle.redirect("/login")

    @app.get("/static/<path:path>")
    def static(path: str):
        response = bottle.static_file(path, root=str(ctx.assets_dir / "static"))
        response.set_header("Cache-Control", "no-cache")
        return response

    install_api(app, ctx)
    app.default_error_handler = lambda error: _error_page(error)
    return with_security_headers(app)


def _page_handler(ctx: WebContext, render: Callable, page: str, title: str) -> Callable:
    def handler():
        session = bottle.request.environ["affectra.session"]
        values = {"title": title, "page": page, "csrf_token": session.csrf_token}
        values.update(ctx.page_values(page))
        return render(page, **values)
    return handler


def current_session(ctx: WebContext):
    token = bottle.request.get_cookie(SESSION_COOKIE)
    return ctx.sessions.get(token) if token else None


def start_session(ctx: WebContext) -> None:
    session = ctx.sessions.create()
    bottle.response.set_cookie(SESSION_COOKIE, session.token, path="/", httponly=True,
                               samesite="strict", secure=served_over_https(),
                               max_age=int(ctx.sessions.ttl_s))


def form_token() -> str:
    """A fresh double-submit token for a form shown before login, set as a cookie too."""
    token = secrets.token_urlsafe(24)
    bottle.response.set_cookie(FORM_COOKIE, token, path="/", httponly=True,
                               samesite="strict", max_age=3600)
    return token


def check_form_token() -> None:
    cookie = bottle.request.get_cookie(FORM_COOKIE) or ""
    if not cookie or not bottle.request.content_type.startswith(
            "application/x-www-form-urlencoded"):  # do not even parse anything else
        raise bottle.HTTPError(403, "The form has expired; reload the page and try again.")
    field = bottle.request.forms.getunicode("csrf_token") or ""
    if not cookie or not hmac.compare_digest(cookie, field):
        raise bottle.HTTPError(403, "The form has expired; reload the page and try again.")


def _error_page(error: bottle.HTTPError) -> str:
    bottle.response.content_type = "text/plain; charset=utf-8"
    return f"{error.status}: {error.body or 'error'}\n"


def served_over_https() -> bool:
    """True when this request came over HTTPS (Waitress sets the scheme, also from a
    trusted reverse proxy's X-Forwarded-Proto)."""
    return bottle.request.environ.get("wsgi.url_scheme") == "https"


HSTS = ("Strict-Transport-Security", "max-age=31536000")


def with_security_headers(app: Callable) -> Callable:
    """Add the security headers to every response; HSTS only to responses sent over HTTPS."""
    names = {name.lower() for name, _ in SECURITY_HEADERS} | {HSTS[0].lower()}

    def wsgi(environ, start_response):
        headers = list(SECURITY_HEADERS)
        if environ.get("wsgi.url_scheme") == "https":
            headers.append(HSTS)

        def start(status, response_headers, exc_info=None):
            kept = [(n, v) for n, v in response_headers if n.lower() not in names]
            return start_response(status, kept + headers, exc_info)
        return app(environ, start)

    return wsgi


def default_assets_dir() -> Path:
    checkout = Path(__file__).resolve().parents[2] / "web"
    return checkout if (checkout / "templates").is_dir() else Path("/usr/share/affectra/web")
