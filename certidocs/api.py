"""One function per command: what the CLI calls, and what scripts may call directly.

Each function takes paths and plain values, raises CertidocsError subclasses for anything the
user must fix, and returns data for the CLI to print.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from certidocs.errors import Probleme
from certidocs.model import Referentiel
from certidocs.workspace import Workspace


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


def historique_candidat(nom: str, espace: Path) -> list[dict[str, object]]:
    """`certidocs registre candidat`: people matching ``nom`` with their history."""
    from certidocs.registre import ouvrir_registre, registre_existe
    from certidocs.workspace import find_workspace

    ws = find_workspace(espace)
    if not registre_existe(ws):
        return []
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


def grilles(dossier: Path, progress: Any = None) -> Any:
    """`certidocs grilles`: one protected grid per expected candidate (GrillesReport)."""
    from certidocs.pipeline import generer_grilles

    return generer_grilles(dossier, progress) if progress else generer_grilles(dossier)


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
    from certidocs.errors import RegistreError
    from certidocs.registre import ouvrir_registre, registre_existe
    from certidocs.workspace import find_workspace, read_secret

    ws = find_workspace(espace)
    if not registre_existe(ws):
        raise RegistreError(f"{ws.registre_path} introuvable : aucun certificat n'a été délivré "
                            "dans cet espace")
    with ouvrir_registre(ws) as reg:
        found = reg.trouver_certificat(numero.strip())
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
    from certidocs.errors import RegistreError
    from certidocs.registre import ouvrir_registre, registre_existe
    from certidocs.signature import key_path, read_private_key
    from certidocs.workspace import find_workspace

    ws = find_workspace(espace)
    if not registre_existe(ws):
        raise RegistreError(f"{ws.registre_path} introuvable : rien à contrôler")
    public = read_private_key(ws.root).public_key() if key_path(ws.root).exists() else None
    with ouvrir_registre(ws) as reg:
        return reg.controler(public)


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
