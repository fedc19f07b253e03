"""One function per command: what the CLI calls, and what scripts may call directly.

Each function takes paths and plain values, raises CertidocsError subclasses for anything the
user must fix, and returns data for the CLI to print.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from certidocs.errors import Probleme
from certidocs.model import Referentiel
from certidocs.workspace import Workspace

if TYPE_CHECKING:
    from certidocs.depot import DepotGrille


def message_erreur(exc: BaseException) -> str:
    """The one French message a failed step shows, in the terminal and in the console alike:
    the error's own message, or for a bug of ours a plain sentence (never a traceback)."""
    from certidocs.errors import CertidocsError
    from certidocs.systeme import cause_systeme, message_systeme

    if isinstance(exc, CertidocsError):
        return f"Erreur : {cause_systeme(exc) or exc}"
    systeme = message_systeme(exc)
    if systeme is not None:  # the disk or the folder failed, not certidocs
        return f"Erreur : {systeme}"
    return (f"Erreur interne de certidocs ({type(exc).__name__} : {exc}). Relancez avec "
            "CERTIDOCS_DEBUG=1 pour le détail et signalez-la.")


def init(dossier: Path) -> Workspace:
    """`certidocs init`: a new workspace with the default référentiels and templates."""
    from certidocs.workspace import init_workspace

    return init_workspace(dossier)


def verifier_referentiel(fichier: Path) -> tuple[Referentiel | None, list[Probleme]]:
    """`certidocs referentiel verifier`: the référentiel (None if invalid) and every problem."""
    from certidocs.referentiel import read_referentiel

    return read_referentiel(fichier)


def afficher_referentiel(fichier: Path) -> str:
    """`certidocs referentiel afficher`: a readable summary; ReferentielInvalide if invalid."""
    from certidocs.referentiel import load_referentiel
    from certidocs.referentiel.summary import summarise

    return summarise(load_referentiel(fichier))


def importer_referentiel(source: Path, sortie: Path | None = None, fiche: str | None = None,
                         force: bool = False, export_rncp: Path | None = None) -> str:
    """`certidocs referentiel importer`: write the YAML of ``source``; returns the summary.

    ``source`` is a .docx référentiel table, a seed-style text export (.txt/.md) or a France
    Compétences RNCP export, .xml or the .zip as downloaded (``fiche`` picks one fiche). With
    ``export_rncp``, the Word or text ``source`` is combined with that export's ``fiche``:
    official identity, dates and bloc codes, the document's criteria; what could not be
    matched is listed in ``a_verifier``. Without ``sortie`` the file goes to
    the current workspace's ``referentiels/<code>.yaml``. Nothing is written on error, and an
    existing file is never overwritten without ``force``.
    """
    from certidocs.referentiel.importers import run_import
    from certidocs.workspace import find_workspace

    return run_import(source, sortie=sortie, fiche=fiche, force=force,
                      workspace=find_workspace(Path.cwd()), export_rncp=export_rncp)


def chercher_fiches(texte: str, export: Path) -> Any:
    """`certidocs referentiel chercher`: the fiches of France Compétences' export (.zip or
    .xml) whose number or title holds every word of ``texte`` (rncp.Recherche), streamed."""
    from certidocs.referentiel.importers.rncp import chercher

    return chercher(export, texte)


def mettre_a_jour_referentiel(fichier: Path, export: Path) -> Any:
    """`certidocs referentiel mettre-a-jour`: what France Compétences changed on the fiche of
    the référentiel in ``fichier`` since it was written (miseajour.RapportMiseAJour); the
    YAML is not modified. ReferentielInvalide if it does not load, ImportErreur if the export
    lacks its fiche."""
    from certidocs.referentiel import load_referentiel
    from certidocs.referentiel.importers.miseajour import comparer

    return comparer(load_referentiel(fichier), export)


def creer_session(dossier: Path, code: str) -> Path:
    """`certidocs session creer`: write DOSSIER/session.xlsx for référentiel ``code``."""
    from certidocs.referentiel import load_referentiel
    from certidocs.session.creator import create_session
    from certidocs.workspace import find_workspace

    ws = find_workspace(dossier.parent if not dossier.exists() else dossier)
    return create_session(dossier, load_referentiel(ws.find_referentiel(code)))


def verifier_session(dossier: Path) -> list[Probleme]:
    """`certidocs session verifier`: every problem, errors and warnings, each with its cell."""
    from certidocs.session import open_session, verify_session
    from certidocs.workspace import find_workspace

    return verify_session(open_session(dossier, find_workspace(dossier)))


def _registre_present(ws: Workspace) -> None:
    """RegistreError when the workspace has no register yet, saying where certidocs looked:
    run outside a workspace, a command falls back on the installation's own folder."""
    from certidocs.errors import RegistreError
    from certidocs.registre import registre_existe

    if not registre_existe(ws):
        raise RegistreError(f"pas de registre dans {ws.root} ({ws.registre_path.name} "
                            "introuvable) : lancez la commande depuis le dossier de l'espace de "
                            "travail, ou donnez-le avec --espace DOSSIER")


def historique_candidat(nom: str, espace: Path) -> list[dict[str, object]]:
    """`certidocs registre candidat`: people matching ``nom`` with their history."""
    from certidocs.registre import ouvrir_registre
    from certidocs.workspace import find_workspace

    ws = find_workspace(espace)
    _registre_present(ws)
    with ouvrir_registre(ws) as reg:
        return reg.rechercher(nom)


def exporter_registre(sortie: Path, espace: Path) -> Path:
    """`certidocs registre exporter`: the register as an xlsx for office staff."""
    from certidocs.registre import ouvrir_registre
    from certidocs.registre_export import export_xlsx
    from certidocs.workspace import find_workspace

    ws = find_workspace(espace)
    with ouvrir_registre(ws) as reg:
        return export_xlsx(reg, sortie)


def _etape(command: Callable[..., Any]) -> Callable[..., Any]:
    """A step that reads or writes a whole session (grids, read-back, documents): the memory
    the C allocator keeps free is given back before it starts and after it ends
    (certidocs.documents.pdf.release_memory), so that a process running the steps one after
    the other (the console, a script, ``make bench``) does not carry one step's high-water
    into the next. Measured on the 10,000-candidate bench (30/11/2026): the read-back started
    with the grids' freed memory still held, the documents with the read-back's."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        from certidocs.documents.pdf import release_memory

        gc.collect()
        release_memory()
        try:
            return command(*args, **kwargs)
        finally:
            gc.collect()
            release_memory()

    return run


@_etape
def grilles(dossier: Path, progress: Any = None) -> Any:
    """`certidocs grilles`: one protected grid per expected candidate (GrillesReport)."""
    from certidocs.pipeline import generer_grilles

    return generer_grilles(dossier, progress) if progress else generer_grilles(dossier)


@_etape
def resultats(dossier: Path, progress: Any = None) -> Any:
    """`certidocs resultats`: read and check the grids, decide, write and record
    (ResultatsReport)."""
    from certidocs.pipeline import calculer_resultats

    return calculer_resultats(dossier, progress) if progress else calculer_resultats(dossier)


def exporter_accrochage(session: Path | None = None, depuis: str | None = None,
                        sortie: Path | None = None, espace: Path | None = None) -> Any:
    """`certidocs accrochage exporter`: the flux of the certificates still to declare to the
    Caisse des Dépôts, validated against its XSD before it is written (RapportExport).

    ``depuis`` is a date as typed (JJ/MM/AAAA or AAAA-MM-JJ). The workspace is ``espace``,
    else the one holding ``session``, else the current folder's.
    """
    from certidocs.accrochage import exporter, lire_date
    from certidocs.errors import AccrochageError
    from certidocs.workspace import find_workspace

    try:
        day = lire_date(depuis) if depuis else None
    except ValueError as exc:
        raise AccrochageError(f"--depuis : {exc}") from None
    ws = find_workspace(espace or session or Path.cwd())
    return exporter(ws, session=session, depuis=day, sortie=sortie)


def marquer_accrochage(fichier: Path, acceptes: bool, passages: tuple[str, ...] = (),
                       motif: str = "", espace: Path | None = None) -> Any:
    """`certidocs accrochage marquer`: record the Caisse des Dépôts' answer to a flux
    (RapportMarquage); rejected passages will be exported again, accepted ones never."""
    from certidocs.accrochage import marquer
    from certidocs.workspace import find_workspace

    ws = find_workspace(espace or Path.cwd())
    return marquer(ws, fichier, acceptes=acceptes, passages=passages, motif=motif)


def importer_retour_accrochage(fichier: Path, espace: Path | None = None) -> Any:
    """`certidocs accrochage importer-retour`: read the Caisse des Dépôts' processing answer
    (accrochage.retour.RetourCdc, each rejection explained in French) and record each
    passage's outcome; « existe déjà en base » counts as accepted.

    AccrochageError, with nothing recorded, when the answer is not a CDC report, answers no
    flux of this workspace, or names passages that flux does not hold.
    """
    import dataclasses

    from certidocs.accrochage.retour import lire_retour
    from certidocs.errors import AccrochageError
    from certidocs.registre import ouvrir_registre, registre_existe
    from certidocs.workspace import find_workspace

    retour = lire_retour(fichier)
    ws = find_workspace(espace or Path.cwd())
    if not registre_existe(ws):
        raise AccrochageError(f"{ws.root} : aucun registre, donc aucun flux exporté")
    # The register-facing part: the same calls as `accrochage marquer`, one per passage.
    with ouvrir_registre(ws) as reg:
        # By idFlux only: file names repeat (one per second), an idFlux never does.
        flux = reg.trouver_flux(id_flux=retour.id_flux)
        if flux is None:
            raise AccrochageError(f"{fichier} : répond au flux {retour.id_flux} "
                                  f"({retour.nom_fichier or 'nom inconnu'}), qui n'a pas été "
                                  "exporté depuis cet espace ; rien n'a été enregistré")
        known = {p["id_technique"]: f"{p['nom_naissance'].upper()} {p['prenom']}"
                 for p in reg.passages_du_flux(flux["id"])}
        unknown = [p.id_technique for p in retour.passages if p.id_technique not in known]
        if unknown:
            raise AccrochageError(f"{fichier} : passage(s) absent(s) du flux {flux['fichier']} : "
                                  f"{', '.join(unknown[:10])} ; rien n'a été enregistré")
        for p in retour.passages:
            reg.marquer_passages(flux["id"], "accepté" if p.accepte else "rejeté",
                                 [p.id_technique], p.message)
    return dataclasses.replace(retour, titulaires={p.id_technique: known[p.id_technique]
                                                   for p in retour.passages})


@_etape
def documents(dossier: Path, *, stage: str | None = None, types: tuple[str, ...] | None = None,
              pdf: bool = False, remplacer_modifies: bool = False,
              progress: Any = None) -> Any:
    """`certidocs documents`: the documents due at this stage (DocumentsReport)."""
    from certidocs.production import produire_documents

    return produire_documents(dossier, etape=stage, types=types, pdf=pdf,
                              remplacer_modifies=remplacer_modifies, progress=progress)


def verifier_certificat(numero: str, code: str, espace: Path) -> dict[str, Any]:
    """`certidocs registre verifier`: the certificate, its holder, whether ``code`` is the one
    its holder's data and the workspace secret give (``authentique``), and its revocation
    (``revoque_le``, ``motif_revocation``; None and "" when it stands)."""
    import datetime as dt

    from certidocs.documents import code_valide
    from certidocs.registre import ouvrir_registre
    from certidocs.workspace import find_workspace, read_secret

    ws = find_workspace(espace)
    _registre_present(ws)
    with ouvrir_registre(ws) as reg:
        reg.exiger_integrite()
        found = reg.trouver_certificat(numero.strip().upper())
    if found is None:
        return {"authentique": False, "numero": numero}
    born = dt.date.fromisoformat(found["date_naissance"]) if found["date_naissance"] else None
    found["authentique"] = code_valide(
        code, read_secret(ws), found["numero"], found["nom_naissance"], found["prenom"],
        born, dt.date.fromisoformat(found["date_delivrance"]))
    return found


def deliberer(dossier: Path) -> Any:
    """`certidocs deliberer`: seal the session's decisions (DeliberationReport)."""
    from certidocs.deliberation import deliberer as run

    return run(dossier)


def reviser_decision(dossier: Path, numero: str, motif: str, date: str | None = None) -> Any:
    """`certidocs decision reviser`: decide again for one candidate of a sealed session
    (RevisionReport); ``date`` as typed (JJ/MM/AAAA), today by default."""
    from certidocs.accrochage import lire_date
    from certidocs.deliberation import DeliberationError, reviser

    try:
        day = lire_date(date) if date else None
    except ValueError as exc:
        raise DeliberationError(f"--date : {exc}") from None
    return reviser(dossier, numero, motif, day)


def controler_registre(espace: Path) -> list[Any]:
    """`certidocs registre controler`: every hand edit found in the register (Constat list;
    empty when the register is what certidocs wrote)."""
    from certidocs.registre import ouvrir_registre
    from certidocs.signature import key_path, read_private_key
    from certidocs.workspace import find_workspace

    ws = find_workspace(espace)
    _registre_present(ws)
    from certidocs.registre import Constat

    public = read_private_key(ws.root).public_key() if key_path(ws.root).exists() else None
    with ouvrir_registre(ws) as reg:
        found = reg.controler(public)
        # A flux recorded as sent must still be there to be shown to the CDC or re-read.
        for ident, fichier in reg.fichiers_flux():
            path = Path(fichier)
            if not (path if path.is_absolute() else ws.root / path).is_file():
                found.append(Constat(f"table flux, ligne {ident}",
                                     f"le fichier {fichier} a disparu : un flux enregistré "
                                     "doit rester là où il a été écrit"))
        return found


def migrer_registre(espace: Path, vers: str) -> dict[str, int]:
    """`certidocs registre migrer --vers URL`: copy the workspace's SQLite register, with its
    journal, into the shared PostgreSQL register at ``vers`` (idempotent); rows copied per
    table, empty when it was already there. The password comes from the environment."""
    from certidocs.registre import ENV_MOT_DE_PASSE, reglages
    from certidocs.registre.reseau import migrer
    from certidocs.workspace import find_workspace

    ws = find_workspace(espace)
    settings = reglages(ws.config)
    return migrer(ws.registre_path, vers, settings.mot_de_passe
                  or os.environ.get(ENV_MOT_DE_PASSE), centre=settings.centre)


def declarer_centre(espace: Path, siret: str, nom: str, compte: str,
                    mot_de_passe: str | None) -> None:
    """`certidocs registre centre SIRET NOM --compte ROLE`: a partner centre and its account on
    the shared register (the certifier's account only)."""
    from certidocs.registre import ouvrir_registre, reseau
    from certidocs.workspace import find_workspace

    ws = find_workspace(espace)
    with ouvrir_registre(ws) as reg:
        reseau.declarer_centre(reg, siret=siret, nom=nom, role_bd=compte,
                               mot_de_passe=mot_de_passe)


def cle_publique(espace: Path, sortie: Path | None = None) -> bytes:
    """`certidocs registre cle-publique`: the PEM of the workspace's public key, written to
    ``sortie`` when given (never over an existing file)."""
    from certidocs.errors import EspaceError
    from certidocs.signature import public_key_pem, read_private_key
    from certidocs.workspace import find_workspace

    pem = public_key_pem(read_private_key(find_workspace(espace).root))
    if sortie is not None:
        _write_new(sortie, pem, EspaceError)
    return pem


def _write_new(path: Path, data: bytes, error: type[Exception]) -> None:
    from certidocs.fileio import atomic_path

    try:
        with atomic_path(path, overwrite=False) as tmp:
            tmp.write_bytes(data)
    except FileExistsError:
        raise error(f"{path} existe déjà ; choisissez un autre nom (-o)") from None
    except OSError as exc:
        raise error(f"{path} : écriture impossible ({exc.strerror or exc})") from None


def liste_revocations(espace: Path, sortie: Path) -> tuple[Path, int]:
    """`certidocs registre revocations`: write the signed list of revoked certificates
    (numbers and dates only, to be published); returns the file and how many it lists."""
    import datetime as dt

    from certidocs.errors import RegistreError
    from certidocs.registre import ouvrir_registre, registre_existe
    from certidocs.signature import read_private_key, sign_revocation_list
    from certidocs.workspace import find_workspace

    ws = find_workspace(espace)
    key = read_private_key(ws.root)
    revoked: list[dict[str, Any]] = []
    if registre_existe(ws):
        with ouvrir_registre(ws) as reg:
            reg.exiger_integrite()
            revoked = reg.certificats_revoques()
    emetteur = str(ws.setting("organisme", "nom", "") or "")
    text = sign_revocation_list(key, emetteur, revoked, dt.datetime.now().astimezone())
    _write_new(sortie, text.encode("utf-8"), RegistreError)
    return sortie, len(revoked)


def creer_cles(espace: Path) -> list[Path]:
    """`certidocs registre creer-cles`: create the secret and the signing key a workspace made
    before this version lacks; refused (EspaceError) when the register already holds
    certificates, which depend on the lost files (restore them from the backup instead)."""
    from certidocs.errors import EspaceError
    from certidocs.registre import ouvrir_registre, registre_existe
    from certidocs.signature import ensure_keys
    from certidocs.workspace import find_workspace

    ws = find_workspace(espace)
    if registre_existe(ws):
        with ouvrir_registre(ws) as reg:
            issued = reg.nombre_certificats()
        if issued:
            raise EspaceError(f"{ws.root} : le registre compte {issued} certificat(s) délivré(s), "
                              "qui dépendent du secret et de la clé d'origine ; restaurez-les "
                              "depuis votre sauvegarde au lieu d'en créer de nouveaux")
    return ensure_keys(ws.root)


def verifier_hors_ligne(source: str, cle: Path, revocations: Path | None = None
                        ) -> dict[str, Any]:
    """`certidocs verifier`: what a certificate states, checked with the certifier's public
    key alone (no register, no network). ``source`` is the QR code's text or an image file
    of it. Returns ``attestation`` (signature.Attestation) and ``revoque_le`` (ISO date, or
    None; checked only when a signed revocation list is given). SignatureError otherwise."""
    from certidocs.signature import (
        decode_image,
        load_public_key,
        read_revocation_list,
        verify_token,
    )

    public = load_public_key(cle)
    image = Path(source)
    text = decode_image(image) if len(source) < 4096 and image.is_file() else source
    attestation = verify_token(public, text)
    revoked = read_revocation_list(revocations, public) if revocations else {}
    return {"attestation": attestation, "revoque_le": revoked.get(attestation.numero),
            "liste": revocations is not None}


# --- for the console (and scripts): what a workspace holds, files handed back ------------------


@dataclass(frozen=True)
class ReferentielApercu:
    """One référentiel of a workspace as listed for people: code, title, size, points to
    check; ``probleme`` set (and the rest empty) when its YAML does not load."""

    code: str
    fichier: Path
    intitule: str = ""
    blocs: int = 0
    criteres: int = 0
    a_verifier: tuple[str, ...] = ()
    probleme: str = ""


@dataclass(frozen=True)
class EtatSession:
    """Where a session stands, read from its folder alone (no workbook is opened), so that
    listing a thousand-candidate session stays instant."""

    nom: str
    dossier: Path
    classeur: bool
    grilles: int
    resultats: bool
    documents: int

    @property
    def etape(self) -> str:
        """The stage reached, in the coordinator's words."""
        if not self.classeur:
            return "à créer"
        if self.resultats:
            return "documents produits" if self.documents else "résultats calculés"
        if self.grilles:
            return "évaluation en cours (grilles envoyées)"
        return "préparation (session.xlsx)"


def referentiels(espace: Path) -> list[ReferentielApercu]:
    """The référentiels of the workspace (its own, then the defaults it falls back on)."""
    from certidocs.errors import CertidocsError
    from certidocs.workspace import DEFAULTS, find_workspace

    ws = find_workspace(espace)
    seen: dict[str, Path] = {}
    for folder in (ws.referentiels_dir, DEFAULTS / "referentiels"):
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            seen.setdefault(path.stem, path)
    out = []
    for code, path in sorted(seen.items()):
        try:
            ref = _referentiel_cached(path, path.stat().st_mtime_ns)
        except CertidocsError as exc:
            out.append(ReferentielApercu(code, path, probleme=str(exc)))
            continue
        out.append(ReferentielApercu(
            ref.code, path, ref.certification.intitule, len(ref.blocs), len(ref.criteres),
            tuple(f"{p.chemin} : {p.raison}" for p in ref.a_verifier)))
    return out


@functools.lru_cache(maxsize=64)
def _referentiel_cached(path: Path, mtime_ns: int) -> Referentiel:
    # Keyed on the modification time: an edited YAML is read again, an unchanged one is not.
    from certidocs.referentiel import load_referentiel

    return load_referentiel(path)


def etat_session(dossier: Path) -> EtatSession:
    """Where the session in ``dossier`` stands (see EtatSession)."""
    from certidocs.pipeline import GRILLES
    from certidocs.production import DOCUMENTS
    from certidocs.resultats import JSON_NAME

    def count(folder: Path, pattern: str) -> int:
        return sum(1 for p in folder.glob(pattern) if not p.name.startswith(".")) \
            if folder.is_dir() else 0

    return EtatSession(dossier.name, dossier, (dossier / "session.xlsx").is_file(),
                       count(dossier / GRILLES, "*.xlsx"), (dossier / JSON_NAME).is_file(),
                       count(dossier / DOCUMENTS, "*/*.docx"))


def sessions(espace: Path) -> list[EtatSession]:
    """Every session folder of the workspace, by name, with where it stands."""
    from certidocs.workspace import find_workspace

    folder = find_workspace(espace).sessions_dir
    if not folder.is_dir():
        return []
    return [etat_session(p) for p in sorted(folder.iterdir())
            if p.is_dir() and not p.name.startswith(".")]


def deposer_session(dossier: Path, nom: str, contenu: bytes) -> list[Probleme]:
    """`certidocs deposer` of a filled session.xlsx: checked, put in place (the previous one
    kept in .historique/), its problems returned as `session verifier` gives them."""
    from certidocs.depot import deposer_session as run

    return run(dossier, nom, contenu)


def deposer_grilles(dossier: Path, fichiers: list[tuple[str, bytes]],
                    remplacer: bool = False) -> list[DepotGrille]:
    """`certidocs deposer` of returned grids: each checked as `resultats` reads it and
    placed under its candidate; a grid holding other input is replaced only if asked."""
    from certidocs.depot import deposer_grilles as run

    return run(dossier, fichiers, remplacer)


def bilan(annee: int, referentiel: str | None = None, sortie: Path | None = None,
          espace: Path | None = None, date: str | None = None) -> Any:
    """`certidocs bilan`: the annual review of year ``annee`` (bilan.BilanReport): a Word
    report and the Excel workbook of its tables, from the register of the workspace holding
    ``espace`` (the current folder by default). ``date`` (JJ/MM/AAAA) is the date the review
    states, today by default."""
    from certidocs.accrochage import lire_date
    from certidocs.bilan import BilanError, construire_bilan

    day = None
    if date is not None:
        try:
            day = lire_date(date)
        except ValueError as exc:
            raise BilanError(f"--date : {exc}") from None
    return construire_bilan(espace or Path.cwd(), annee, referentiel, sortie, day)
