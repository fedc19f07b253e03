"""The console's ASGI application: routes, the token and host checks, and `serve`.

One Starlette app over one workspace. Pages are rendered on the server from Jinja templates
shipped in the package (``templates/``, ``static/``); every step calls the ``certidocs.api``
function the CLI calls. ``create_app`` builds it for tests (called in-process); ``serve`` runs
it with uvicorn on 127.0.0.1 for `certidocs console`.
"""

from __future__ import annotations

import webbrowser
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from certidocs.console import views
from certidocs.console.jobs import Jobs
from certidocs.console.security import RateLimiter, Secrets, host_ok, is_public
from certidocs.workspace import Workspace, find_workspace

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
DEFAULT_PORT = 8765


@dataclass
class Console:
    """What every view needs: the workspace, the secrets, the running steps, the templates."""

    workspace: Workspace
    secrets: Secrets
    jobs: Jobs = field(default_factory=Jobs)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    flash: list[tuple[str, str]] = field(default_factory=list)
    templates: Jinja2Templates = field(
        default_factory=lambda: Jinja2Templates(directory=str(HERE / "templates")))

    def __post_init__(self) -> None:
        self.templates.env.filters["date_fr"] = _date_fr

    def say(self, kind: str, message: str) -> None:
        """A message for the next page shown (kind: « ok », « erreur », « info »)."""
        self.flash.append((kind, message))


def _date_fr(value: str) -> str:
    """« 2027-12-15 » → « 15/12/2027 » (anything else as it is)."""
    import datetime as dt

    try:
        return dt.date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    except ValueError:
        return str(value)


def _refused(console: Console, request: Request, status: int, message: str) -> Response:
    return console.templates.TemplateResponse(
        request, "refus.html", {"message": message, "console": console, "public": True},
        status_code=status)


class _Gate(BaseHTTPMiddleware):
    """The token, as Jupyter asks it: in the URL once (then a cookie), on every page but the
    public ones; and the Host header must name this machine (no DNS rebinding)."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        console: Console = request.app.state.console
        path = request.url.path
        if is_public(path):
            return await call_next(request)
        if not host_ok(request.headers.get("host", "")):
            return _refused(console, request, 403, "Adresse refusée : la console ne répond "
                            "qu'à 127.0.0.1 ou localhost.")
        given = request.query_params.get("token")
        if given is not None:
            if not console.secrets.token_ok(given):
                return _refused(console, request, 403, "Jeton invalide : ouvrez l'adresse "
                                "affichée par « certidocs console » au démarrage.")
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = path + (f"?{urlencode(rest)}" if rest else "")
            response: Response = RedirectResponse(target, status_code=303)
            response.set_cookie(console.secrets.cookie, console.secrets.token, httponly=True,
                                samesite="strict", path="/")
            return response
        if not console.secrets.token_ok(request.cookies.get(console.secrets.cookie)):
            return _refused(console, request, 403, "Accès refusé : cette console demande le "
                            "jeton secret. Ouvrez l'adresse complète affichée par « certidocs "
                            "console » au démarrage (elle contient « ?token=… »).")
        response = await call_next(request)
        response.headers.setdefault("Cache-Control", "no-store")
        return response


async def _headers(request: Request, call_next: RequestResponseEndpoint) -> Response:
    response = await call_next(request)
    # Everything is served from here: no script, style or frame from elsewhere.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def _not_found(request: Request, exc: Exception) -> Response:
    console: Console = request.app.state.console
    return _refused(console, request, 404, "Page introuvable.")


async def _server_error(request: Request, exc: Exception) -> Response:
    from certidocs.api import message_erreur

    return HTMLResponse(f"<!doctype html><html lang=fr><meta charset=utf-8><p>"
                        f"{_escape(message_erreur(exc))}</p></html>", status_code=500)


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def create_app(espace: Path, secrets: Secrets | None = None) -> Starlette:
    """The console over the workspace containing ``espace``."""
    console = Console(find_workspace(espace), secrets or Secrets())
    routes = [
        Route("/", views.espace),
        Route("/sessions", views.creer_session, methods=["POST"]),
        Route("/session/{nom}", views.session),
        Route("/session/{nom}/etape/{etape}", views.lancer_etape, methods=["POST"]),
        Route("/session/{nom}/classeur", views.deposer_classeur, methods=["POST"]),
        Route("/session/{nom}/grilles", views.deposer_grilles, methods=["POST"]),
        Route("/session/{nom}/accrochage", views.marquer_accrochage, methods=["POST"]),
        Route("/session/{nom}/resultats", views.resultats),
        Route("/session/{nom}/documents", views.documents),
        Route("/session/{nom}/etat", views.etat),
        Route("/session/{nom}/zip/{quoi}", views.archive),
        Route("/session/{nom}/fichier/{chemin:path}", views.fichier),
        Route("/accrochage/{nom}", views.flux),
        Route("/verifier", views.verifier),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[
        Middleware(BaseHTTPMiddleware, dispatch=_headers), Middleware(_Gate)],
        exception_handlers={404: _not_found, 500: _server_error})
    app.state.console = console
    return app


def serve(espace: Path, port: int = DEFAULT_PORT, ouvrir: bool = True,
          say: Any = print) -> None:
    """Run the console on 127.0.0.1:``port`` until interrupted; print (and open) its address
    with the token in it."""
    import threading

    import uvicorn

    _check_port(port)
    secrets = Secrets(cookie=f"certidocs_console_{port}")
    app = create_app(espace, secrets)
    url = f"http://{HOST}:{port}/?token={secrets.token}"
    config = uvicorn.Config(app, host=HOST, port=port, log_level="warning",
                            access_log=False, server_header=False)
    server = uvicorn.Server(config)
    say(f"Console de l'espace {app.state.console.workspace.root}")
    say(f"Ouvrez cette adresse dans votre navigateur (elle contient le jeton secret) :\n  {url}")
    say("Arrêt : Ctrl+C.")
    if ouvrir:  # a moment later, so that the server listens when the browser asks
        threading.Timer(0.8, webbrowser.open, args=(url,)).start()
    server.run()


def _check_port(port: int) -> None:
    import socket

    from certidocs.errors import CertidocsError

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            raise CertidocsError(f"le port {port} est déjà utilisé (une autre console ?) ; "
                                 "choisissez-en un autre avec --port") from None
