"""The console's pages: one function per page or form, each calling ``certidocs.api``.

Pages read the folders as they are (``api.etat_session``: no workbook is opened), so they
answer at once for a session of any size; what takes time (checking session.xlsx, grids,
results, documents, the CDC export, files handed back) runs as a background step
(``jobs.Jobs``) whose report then stays on the session page.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response

from certidocs import api
from certidocs.console.archives import ZIPS, build_zip
from certidocs.console.security import file_in, session_dir

if TYPE_CHECKING:
    from certidocs.console.app import Console

MAX_FICHIERS_PAR_ENVOI = 300  # more grids than any session returns in one go
MAX_OCTETS_PAR_FICHIER = 20 * 1024 * 1024  # the same bound as certidocs.depot
MAX_OCTETS_PAR_ENVOI = 300 * 1024 * 1024
MAX_CHAMPS = 50
LIBELLES = {
    "convocation_candidat": "Convocations des candidats",
    "convocation_jury": "Convocations du jury",
    "emargement": "Feuille d'émargement",
    "fiche_resultats": "Fiches individuelles de résultats",
    "proces_verbal": "Procès-verbal",
    "certificat": "Certificats",
    "attestation_blocs": "Attestations de validation de blocs",
    "notification_resultats": "Notifications de résultats",
    "non_recevabilite": "Notifications de non-recevabilité",
    "suivi_dysfonctionnements": "Fiche de suivi des dysfonctionnements",
}
TELECHARGEABLES = ("session.xlsx", "resultats.xlsx", "resultats.json", "grilles", "documents")
ETAPES = {
    "verifier": "Vérification de session.xlsx",
    "grilles": "Création des grilles",
    "resultats": "Calcul des résultats",
    "documents": "Production des documents",
    "accrochage": "Export du flux pour la Caisse des Dépôts",
    "classeur": "Dépôt de session.xlsx",
    "depot": "Dépôt des grilles",
}


class Refus(Exception):
    """A request the console refuses: status and French message for the page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _console(request: Request) -> Console:
    return request.app.state.console  # type: ignore[no-any-return]


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    console = _console(request)
    if context.get("public"):  # the public page gets neither the CSRF token nor messages
        return console.templates.TemplateResponse(request, name, context, status_code=status)
    flash, console.flash[:] = list(console.flash), []
    return console.templates.TemplateResponse(
        request, name, {"console": console, "csrf": console.secrets.csrf, "flash": flash,
                        "public": False, **context}, status_code=status)


def _refus(request: Request, exc: Refus) -> Response:
    return _console(request).templates.TemplateResponse(
        request, "refus.html", {"message": exc.message, "public": False},
        status_code=exc.status)


def _session(request: Request) -> Path:
    console = _console(request)
    folder = session_dir(console.workspace.sessions_dir, request.path_params["nom"])
    if folder is None:
        raise Refus(404, f"Session « {request.path_params['nom']} » introuvable dans "
                         f"{console.workspace.sessions_dir}.")
    return folder


async def _form(request: Request, upload: bool = False) -> FormData:
    """The posted form, bounded in size and count, refused without the right CSRF token."""
    length = request.headers.get("content-length")
    limit = MAX_OCTETS_PAR_ENVOI if upload else 1024 * 1024
    if length is None or not length.isdigit():
        raise Refus(411, "Envoi refusé : taille inconnue.")
    if int(length) > limit:
        raise Refus(413, f"Envoi refusé : {int(length) // (1024 * 1024)} Mo, "
                         f"{limit // (1024 * 1024)} Mo au plus par envoi.")
    origin = request.headers.get("origin")
    if origin and origin != "null" and origin.split("://")[-1] != request.headers.get("host"):
        raise Refus(403, "Formulaire refusé : il ne vient pas de cette console.")
    try:
        form = await request.form(max_files=MAX_FICHIERS_PAR_ENVOI if upload else 0,
                                  max_fields=MAX_CHAMPS)
    except Exception as exc:  # multipart's own errors (too many files, malformed body)
        raise Refus(400, f"Envoi refusé : {getattr(exc, 'detail', exc)}") from None
    if not _console(request).secrets.csrf_ok(form.get("csrf")):
        raise Refus(403, "Formulaire refusé : jeton de formulaire (CSRF) absent ou invalide. "
                         "Rechargez la page et recommencez.")
    return form


def _back(folder: Path, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/session/{folder.name}{anchor}", status_code=303)


# --- the workspace ----------------------------------------------------------------------------


async def espace(request: Request) -> Response:
    """The workspace: référentiels with their points to check, sessions with their stage."""
    console = _console(request)
    root = console.workspace.root
    refs = await run_in_threadpool(api.referentiels, root)
    return _page(request, "espace.html", {"referentiels": refs,
                                          "sessions": api.sessions(root)})


async def creer_session(request: Request) -> Response:
    """Create a session folder and its session.xlsx (`certidocs session creer`)."""
    try:
        form = await _form(request)
    except Refus as exc:
        return _refus(request, exc)
    console = _console(request)
    nom, code = str(form.get("nom", "")).strip(), str(form.get("referentiel", "")).strip()
    from certidocs.console.security import SESSION_NAME

    if not SESSION_NAME.match(nom) or ".." in nom:
        console.say("erreur", f"Nom de session « {nom} » refusé : lettres, chiffres, « - », "
                              "« _ » ou « . », sans espace (par exemple 2026-12-lyon).")
        return RedirectResponse("/", status_code=303)
    folder = console.workspace.sessions_dir / nom
    try:
        path = await run_in_threadpool(api.creer_session, folder, code)
    except Exception as exc:
        console.say("erreur", api.message_erreur(exc))
        return RedirectResponse("/", status_code=303)
    console.say("ok", f"Session créée : {path}. Téléchargez session.xlsx, faites-le remplir "
                      "par le bureau, puis déposez-le ici.")
    return RedirectResponse(f"/session/{nom}", status_code=303)


# --- a session --------------------------------------------------------------------------------


def _flux_dir(console: Console) -> Path:
    """Where `accrochage exporter` writes the CDC flux (certidocs.toml, [accrochage])."""
    return console.workspace.root / str(
        console.workspace.setting("accrochage", "dossier", "accrochage") or "accrochage")


def _context(request: Request, folder: Path) -> dict[str, Any]:
    console = _console(request)
    jobs = console.jobs
    name = folder.name
    flux_dir = _flux_dir(console)
    return {
        "etat": api.etat_session(folder),
        "en_cours": jobs.running(name),
        "derniers": {k: jobs.last(name, k) for k in ETAPES},
        "flux": sorted((p.name for p in flux_dir.glob("*.xml")), reverse=True)
        if flux_dir.is_dir() else [],
    }


async def session(request: Request) -> Response:
    """A session: each step, one button, with the report of its last run."""
    try:
        folder = _session(request)
    except Refus as exc:
        return _refus(request, exc)
    return _page(request, "session.html", _context(request, folder))


async def etat(request: Request) -> Response:
    """The running step of a session as JSON, for the page's progress bar."""
    try:
        folder = _session(request)
    except Refus as exc:
        return _refus(request, exc)
    job = _console(request).jobs.running(folder.name)
    return JSONResponse({"en_cours": job is not None,
                         "libelle": job.libelle if job else "",
                         "fait": job.fait if job else 0, "total": job.total if job else 0})


def _work(folder: Path, etape: str, form: FormData, console: Console) -> Any:
    """The api call of each step, exactly as the CLI makes it."""
    if etape == "verifier":
        return lambda progress: api.verifier_session(folder)
    if etape == "grilles":
        return lambda progress: api.grilles(folder, progress)
    if etape == "resultats":
        return lambda progress: api.resultats(folder, progress)
    if etape == "documents":
        pdf = form.get("pdf") == "oui"
        return lambda progress: api.documents(folder, pdf=pdf, progress=progress)
    if etape == "accrochage":
        return lambda progress: api.exporter_accrochage(session=folder,
                                                        espace=console.workspace.root)
    return None


def _start(console: Console, folder: Path, etape: str, work: Any) -> bool:
    job = console.jobs.start(folder.name, etape, ETAPES[etape], work)
    if job is None:
        running = console.jobs.running(folder.name)
        console.say("erreur", f"« {running.libelle if running else 'Une étape'} » est déjà en "
                              "cours pour cette session : attendez qu'elle se termine.")
        return False
    return True


async def lancer_etape(request: Request) -> Response:
    """Start one step of the session in the background."""
    try:
        folder = _session(request)
        form = await _form(request)
    except Refus as exc:
        return _refus(request, exc)
    console = _console(request)
    etape = request.path_params["etape"]
    work = _work(folder, etape, form, console)
    if work is None:
        return _refus(request, Refus(404, f"Étape « {etape} » inconnue."))
    _start(console, folder, etape, work)
    return _back(folder, f"#{etape}")


async def _files(form: FormData) -> list[tuple[str, bytes]]:
    """The uploaded files' names and contents; a file over the bound is refused unread."""
    out = []
    for value in form.getlist("fichiers"):
        if not isinstance(value, UploadFile) or not value.filename:
            continue
        if value.size is not None and value.size > MAX_OCTETS_PAR_FICHIER:
            raise Refus(413, f"« {value.filename} » : fichier trop gros "
                             f"({MAX_OCTETS_PAR_FICHIER // (1024 * 1024)} Mo au plus).")
        # The name as sent: certidocs.depot refuses any path or « .. » in it, and says so.
        out.append((value.filename, await value.read(MAX_OCTETS_PAR_FICHIER + 1)))
    if not out:
        raise Refus(400, "Aucun fichier reçu : choisissez ou déposez au moins un fichier.")
    if len(out) > MAX_FICHIERS_PAR_ENVOI:
        raise Refus(413, f"Trop de fichiers : {MAX_FICHIERS_PAR_ENVOI} au plus par envoi.")
    return out


async def _upload(request: Request) -> tuple[Path, FormData, list[tuple[str, bytes]]]:
    folder = _session(request)
    form = await _form(request, upload=True)
    return folder, form, await _files(form)


async def deposer_classeur(request: Request) -> Response:
    """Upload the filled session.xlsx; checked, then put in place (`certidocs deposer`)."""
    try:
        folder, _form_data, files = await _upload(request)
    except Refus as exc:
        return _refus(request, exc)
    name, data = files[0]
    _start(_console(request), folder, "classeur",
           lambda progress: api.deposer_session(folder, name, data))
    return _back(folder, "#classeur")


async def deposer_grilles(request: Request) -> Response:
    """Upload returned grids (several at once); each checked and placed under its candidate."""
    try:
        folder, form, files = await _upload(request)
    except Refus as exc:
        return _refus(request, exc)
    remplacer = form.get("remplacer") == "oui"
    _start(_console(request), folder, "depot",
           lambda progress: api.deposer_grilles(folder, files, remplacer))
    return _back(folder, "#depot")


async def marquer_accrochage(request: Request) -> Response:
    """Record the Caisse des Dépôts' answer to a flux (`certidocs accrochage marquer`)."""
    try:
        folder = _session(request)
        form = await _form(request)
    except Refus as exc:
        return _refus(request, exc)
    console = _console(request)
    flux_dir = _flux_dir(console)
    path = file_in(flux_dir, str(form.get("flux", "")), (str(form.get("flux", "")),))
    if path is None:
        console.say("erreur", "Flux introuvable : choisissez un des flux exportés.")
        return _back(folder, "#accrochage")
    acceptes = form.get("reponse") == "acceptes"
    passages = tuple(p.strip() for p in str(form.get("passages", "")).replace(",", " ").split()
                     if p.strip())
    try:
        report = await run_in_threadpool(api.marquer_accrochage, path, acceptes, passages,
                                         str(form.get("motif", "")), console.workspace.root)
    except Exception as exc:
        console.say("erreur", api.message_erreur(exc))
        return _back(folder, "#accrochage")
    console.say("ok", f"{report.fichier} : {report.marques} passage(s) marqué(s) "
                      f"« {report.statut} » ; état du flux : {report.compte('accepté')} "
                      f"accepté(s), {report.compte('rejeté')} refusé(s), "
                      f"{report.compte('envoyé')} en attente.")
    return _back(folder, "#accrochage")


# --- results and documents --------------------------------------------------------------------


async def resultats(request: Request) -> Response:
    """The decisions of the last `resultats` run, its anomalies and what is awaited."""
    try:
        folder = _session(request)
    except Refus as exc:
        return _refus(request, exc)
    from certidocs.resultats import JSON_NAME

    path = folder / JSON_NAME
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    counts: dict[str, int] = {}
    awaited: list[str] = []
    if data:
        for c in data["candidats"]:
            counts[c["decision"]] = counts.get(c["decision"], 0) + 1
            if c["decision"] == "Incomplet":
                awaited.append(f"{c['numero']} {c['prenom']} {c['nom']}")
    return _page(request, "resultats.html", {"etat": api.etat_session(folder), "data": data,
                                             "comptes": counts, "attendus": awaited})


def _documents(folder: Path) -> dict[str, list[Path]]:
    from certidocs.production import DOCUMENTS

    root = folder / DOCUMENTS
    out: dict[str, list[Path]] = {}
    if root.is_dir():
        for kind in sorted(p for p in root.iterdir() if p.is_dir()):
            out[kind.name] = sorted(p for p in kind.iterdir() if p.suffix in (".docx", ".pdf")
                                    and not p.name.startswith("."))
    return out


async def documents(request: Request) -> Response:
    """The documents produced, each to download, with the merged print files and the ZIP."""
    try:
        folder = _session(request)
    except Refus as exc:
        return _refus(request, exc)
    docs = await run_in_threadpool(_documents, folder)
    merged = {p.name for files in docs.values() for p in files
              if p.name.startswith("_impression_")}
    return _page(request, "documents.html", {"etat": api.etat_session(folder),
                                             "documents": docs, "imprimes": merged,
                                             "libelles": LIBELLES})


async def fichier(request: Request) -> Response:
    """One file of the session (session.xlsx, results, a grid, a document)."""
    try:
        folder = _session(request)
    except Refus as exc:
        return _refus(request, exc)
    path = file_in(folder, request.path_params["chemin"], TELECHARGEABLES)
    if path is None:
        return _refus(request, Refus(404, "Fichier introuvable dans cette session."))
    return FileResponse(path, filename=path.name)


async def archive(request: Request) -> Response:
    """A ZIP of the grids (to send to the jurors) or of the documents (to print or send)."""
    try:
        folder = _session(request)
    except Refus as exc:
        return _refus(request, exc)
    quoi = request.path_params["quoi"]
    if quoi not in ZIPS:
        return _refus(request, Refus(404, "Archive inconnue."))
    path = await run_in_threadpool(build_zip, folder, quoi)
    if path is None:
        return _refus(request, Refus(404, "Rien à mettre dans l'archive pour l'instant."))
    from starlette.background import BackgroundTask

    return FileResponse(path, filename=f"{folder.name}-{quoi}.zip",
                        media_type="application/zip",
                        background=BackgroundTask(path.unlink, missing_ok=True))


async def flux(request: Request) -> Response:
    """A CDC flux written by the export, to deposit on the Caisse des Dépôts' site."""
    flux_dir = _flux_dir(_console(request))
    nom = request.path_params["nom"]
    path = file_in(flux_dir, nom, (nom,))
    if path is None or path.suffix != ".xml":
        return _refus(request, Refus(404, "Flux introuvable."))
    return FileResponse(path, filename=path.name, media_type="application/xml")


# --- public verification ----------------------------------------------------------------------


def _client(request: Request) -> str:
    peer = request.client.host if request.client else "?"
    forwarded = request.headers.get("x-forwarded-for", "")
    # Behind the local reverse proxy every request comes from 127.0.0.1: count the address
    # the proxy saw instead (only a proxy on this machine is trusted to say it).
    if forwarded and peer in ("127.0.0.1", "::1"):
        return forwarded.split(",")[-1].strip()
    return peer


def _verification(numero: str, code: str, espace: Path) -> dict[str, Any]:
    from certidocs.errors import CertidocsError

    try:
        found = api.verifier_certificat(numero, code, espace)
    except CertidocsError:
        return {"authentique": False, "inconnu": True}
    if "nom_naissance" not in found:
        return {"authentique": False, "inconnu": True}
    titre = found.get("referentiel", "")
    for ref in api.referentiels(espace):
        if ref.code == titre and ref.intitule:
            titre = ref.intitule
    when = found.get("date_delivrance") or ""
    with contextlib.suppress(ValueError):
        when = dt.date.fromisoformat(when).strftime("%d/%m/%Y")
    # Only what the certificate itself shows: no birth date, no address, no session.
    return {"authentique": bool(found.get("authentique")),
            "revoque": bool(found.get("revoque_le")),
            "revoque_le": dt.date.fromisoformat(found["revoque_le"][:10]).strftime("%d/%m/%Y")
            if found.get("revoque_le") else "",
            "numero": found.get("numero", numero),
            "titulaire": f"{found.get('prenom', '')} {found.get('nom_naissance', '')}".strip(),
            "titre": titre, "date": when, "inconnu": False}


async def verifier(request: Request) -> Response:
    """Public page: is this certificate authentic? (the address its QR code carries)."""
    console = _console(request)
    numero = request.query_params.get("numero", "").strip()[:64]
    code = request.query_params.get("code", "").strip()[:64]
    answer = None
    if numero or code:
        if not console.limiter.allow(_client(request)):
            return _page(request, "verifier.html", {
                "numero": numero, "code": code, "public": True, "reponse": None,
                "trop": True}, status=429)
        answer = await run_in_threadpool(_verification, numero, code, console.workspace.root)
    return _page(request, "verifier.html", {"numero": numero, "code": code, "public": True,
                                            "reponse": answer, "trop": False})
