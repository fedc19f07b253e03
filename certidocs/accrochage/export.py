"""Export the certificates not yet declared as one flux, and record the CDC's answer.

The register says which certificates were issued, to whom, after which session; it also
remembers which went into which flux and what the Caisse des Dépôts answered. A certificate is
proposed until a flux holding it is accepted: rejected ones come back, accepted ones never do,
and one awaiting an answer is not sent twice. Each certificate's ``idTechnique`` is its number,
so the same certificate keeps the same identifier from one flux to the next, and the CDC's
report, which quotes it, reads directly against the certificates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certidocs.accrochage.flux import (
    CertificationFlux,
    Emetteur,
    ErreurSchema,
    Passage,
    build_flux,
    id_flux_de,
    validate_flux,
)
from certidocs.accrochage.identite import verifier_identite
from certidocs.accrochage.reglages import Reglages, lire_reglages
from certidocs.errors import AccrochageError, CertidocsError, FluxInvalide, Probleme
from certidocs.workspace import Workspace

_FICHE = re.compile(r"(RNCP|RS)(\d{1,7})")
_CODE_POSTAL = re.compile(r"(?<!\d)(\d{5})(?!\d)")


@dataclass(frozen=True)
class Ecarte:
    """A holder left out of the flux, and why."""

    certificat: str
    titulaire: str
    manques: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.titulaire} (certificat {self.certificat}) : {' ; '.join(self.manques)}"


@dataclass(frozen=True)
class RapportExport:
    """What ``exporter`` did: the flux written (if any), who is in it, who was left out."""

    fichier: Path | None
    id_flux: str | None
    declares: tuple[tuple[str, str], ...] = ()  # (certificate number, holder)
    ecartes: tuple[Ecarte, ...] = ()
    en_attente: tuple[dict[str, Any], ...] = ()  # sent earlier, no answer recorded
    renvoyes: tuple[str, ...] = ()  # rejected earlier, in this flux again
    orphelins: tuple[Path, ...] = ()  # files of an interrupted export, removed
    a_rectifier: tuple[str, ...] = ()  # revoked after being declared: correct at the CDC


@dataclass(frozen=True)
class RapportMarquage:
    """What ``marquer`` recorded for one flux."""

    fichier: str
    statut: str
    marques: int
    passages: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def compte(self, statut: str) -> int:
        """How many passages of the flux now have this status."""
        return sum(1 for p in self.passages if p["statut"] == statut)


def lire_date(texte: str) -> dt.date:
    """A date typed as JJ/MM/AAAA (or AAAA-MM-JJ); ValueError with a French message."""
    value = texte.strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"« {texte} » n'est pas une date (JJ/MM/AAAA attendu)")


def code_postal(adresse: str) -> str:
    """The French postal code in an address on one line (the last five-digit group), or ""."""
    found = _CODE_POSTAL.findall(adresse or "")
    return str(found[-1]) if found else ""


def _titulaire(row: dict[str, Any]) -> str:
    return f"{(row['nom_naissance'] or '').upper()} {row['prenom'] or ''}".strip()


def _fiche(workspace: Workspace, code: str) -> tuple[str, str] | str:
    """(type, code) of the RNCP or RS fiche of a référentiel, or why it cannot be known."""
    from certidocs.referentiel import load_referentiel

    try:
        path = workspace.find_referentiel(code)
        ref = load_referentiel(path)
    except CertidocsError as exc:
        return f"référentiel {code} illisible ({str(exc).splitlines()[0]})"
    raw = re.sub(r"\s+", "", ref.certification.rncp or "").upper()
    match = _FICHE.fullmatch(raw)
    if not raw:
        return (f"référentiel {code} : numéro de fiche RNCP ou RS inconnu (renseignez "
                f"certification.rncp dans {path.name}, par exemple RNCP12345)")
    if not match:
        return (f"référentiel {code} : numéro de fiche « {ref.certification.rncp} » mal formé "
                f"dans {path.name} (RNCP12345 ou RS1234 attendu)")
    return match.group(1), raw


def _annees_plus(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _relative(workspace: Workspace, path: Path) -> str:
    """How a flux file is recorded: relative to the workspace when inside it."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(workspace.root.resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def _completer_depuis_session(reg: Any, dossier: Path, cle: str) -> None:
    """Bring the register up to date with session.xlsx's identity columns (Sexe, code INSEE,
    pays de naissance) and the session's address, for a session recorded before they were."""
    from certidocs.session.reader import read_session

    lecture = read_session(dossier)
    with reg.transaction("identités complétées", cle) as conn:
        for c in lecture.session.candidats:
            reg.completer_identite(conn, nom_naissance=c.nom_naissance, prenom=c.prenom,
                                   date_naissance=c.date_naissance, sexe=c.sexe,
                                   code_insee_naissance=c.code_insee_naissance,
                                   pays_naissance=c.pays_naissance,
                                   lieu_naissance=c.lieu_naissance)
        reg.completer_session(conn, cle=cle,
                              code_postal_examen=code_postal(lecture.session.info.adresse))


def _passages(workspace: Workspace, reglages: Reglages, rows: list[dict[str, Any]]
              ) -> tuple[list[CertificationFlux], list[tuple[int, str]], list[Ecarte],
                         dict[str, str]]:
    """The flux's certifications, the (certificate id, idTechnique) pairs, who is left out,
    and the holder of each idTechnique (for messages)."""
    fiches: dict[str, tuple[str, str] | str] = {}
    grouped: dict[tuple[str, str], list[Passage]] = {}
    pairs: list[tuple[int, str]] = []
    ecartes: list[Ecarte] = []
    holders: dict[str, str] = {}
    for row in rows:
        code = row["referentiel"]
        if code not in fiches:
            fiches[code] = _fiche(workspace, code)
        fiche = fiches[code]
        manques = [fiche] if isinstance(fiche, str) else []
        titulaire, identity = verifier_identite(
            nom_naissance=row["nom_naissance"], prenom=row["prenom"],
            date_naissance=row["date_naissance"], sexe=row["sexe"],
            code_insee_naissance=row["code_insee_naissance"],
            pays_naissance=row["pays_naissance"], lieu_naissance=row["lieu_naissance"],
            nom_usage=row["nom_usage"])
        manques += identity
        if manques or titulaire is None or isinstance(fiche, str):
            ecartes.append(Ecarte(row["numero"], _titulaire(row), tuple(manques)))
            continue
        delivre = dt.date.fromisoformat(row["date_delivrance"])
        debut = _date(row["date_debut"])
        postal = (row["code_postal_examen"] or "").strip()
        passage = Passage(
            id_technique=row["numero"],
            titulaire=titulaire,
            date_delivrance=delivre,
            date_fin_validite=(_annees_plus(delivre, reglages.duree_validite_annees)
                               if reglages.duree_validite_annees else None),
            date_debut_examen=debut,
            date_fin_examen=_date(row["date_fin"]) or debut,
            code_postal_examen=postal if len(postal) <= 9 else "",
            modalite_acces=reglages.modalite_acces(row["voie_acces"]),
            voie_acces_vae=reglages.voie_acces_vae,
        )
        grouped.setdefault(fiche, []).append(passage)
        pairs.append((int(row["certificat_id"]), row["numero"]))
        holders[row["numero"]] = _titulaire(row)
    certifications = [CertificationFlux(kind, code, tuple(ps))
                      for (kind, code), ps in grouped.items()]
    return certifications, pairs, ecartes, holders


def _invalide(errors: list[ErreurSchema], holders: dict[str, str]) -> FluxInvalide:
    problems = []
    for e in errors:
        if e.id_technique:
            where = f"{holders.get(e.id_technique, '?')} (certificat {e.id_technique})"
        else:
            where = "en-tête du flux"
        problems.append(Probleme(where, f"{e.libelle} : valeur refusée par le schéma de la "
                                        f"Caisse des Dépôts ({e.message})"))
    return FluxInvalide("flux pour la Caisse des Dépôts (rien n'a été écrit)", problems)


def _cible(workspace: Workspace, reglages: Reglages, sortie: Path | None,
           moment: dt.datetime) -> Path:
    if sortie is not None:
        if sortie.exists():
            raise AccrochageError(f"{sortie} : ce fichier existe déjà ; un flux n'est jamais "
                                  "remplacé, choisissez un autre nom (-o)")
        return sortie
    folder = workspace.root / reglages.dossier
    base = f"accrochage-{moment:%Y%m%d-%H%M%S}"
    target, n = folder / f"{base}.xml", 1
    while target.exists():
        n += 1
        target = folder / f"{base}-{n}.xml"
    return target


def _write(target: Path, data: bytes) -> None:
    """Write a new flux file atomically; an existing file is never replaced."""
    from certidocs.fileio import atomic_path

    try:
        with atomic_path(target, overwrite=False) as tmp:
            tmp.write_bytes(data)
    except FileExistsError:
        raise AccrochageError(f"{target} : ce fichier vient d'apparaître ; un flux n'est "
                              "jamais remplacé, relancez") from None
    except OSError as exc:
        raise AccrochageError(f"{target} : écriture impossible ({exc.strerror or exc})"
                              ) from None


def exporter(workspace: Workspace, *, session: Path | None = None, depuis: dt.date | None = None,
             sortie: Path | None = None, maintenant: dt.datetime | None = None
             ) -> RapportExport:
    """Build, validate and write the flux of every certificate still to declare.

    ``session`` keeps those of one session folder (whose session.xlsx also completes the
    holders' identity in the register), ``depuis`` those issued on or after a date. Holders
    whose identity is incomplete are left out and listed; nothing is written when the flux
    would break the XSD (FluxInvalide, each problem naming the holder and the field) or when
    no certificate is left to declare.
    """
    from certidocs.registre import ouvrir_registre, registre_existe
    from certidocs.session import session_key

    reglages = lire_reglages(workspace)
    moment = (maintenant or dt.datetime.now()).astimezone()
    cle = session_key(workspace, session) if session is not None else None
    if not registre_existe(workspace):
        if session is not None:
            raise AccrochageError(f"{session} : aucun registre dans {workspace.root} ; lancez "
                                  f"d'abord « certidocs resultats {session} »")
        return RapportExport(None, None)
    with ouvrir_registre(workspace) as reg:
        reg.exiger_integrite()
        orphelins = _nettoyer_orphelins(workspace, reglages, reg)
        if session is not None and cle is not None:
            if not reg.session_connue(cle):
                raise AccrochageError(f"{session} : session absente du registre ; lancez "
                                      f"d'abord « certidocs resultats {session} »")
            if (session / "session.xlsx").is_file():
                _completer_depuis_session(reg, session, cle)
        written: Path | None = None
        try:
            # Choosing the certificates and recording the flux happen under one write lock:
            # two exports run at once cannot both declare the same certificate.
            with reg.transaction("flux écrit", "déclaration à la Caisse des Dépôts") as conn:
                rows = reg.certificats_a_declarer(session_cle=cle, depuis=depuis)
                pending = tuple(reg.certificats_en_attente(session_cle=cle, depuis=depuis))
                certifications, pairs, ecartes, holders = _passages(workspace, reglages, rows)
                if not pairs:
                    return RapportExport(None, None, (), tuple(ecartes), pending,
                                         orphelins=orphelins,
                                         a_rectifier=_a_rectifier(reg))
                id_flux = str(uuid.uuid4())
                emetteur = Emetteur(reglages.id_client_emetteur,
                                    reglages.id_client_certificateur, reglages.id_contrat,
                                    reglages.nature_deposant, reglages.modalite_passage_examen)
                data = build_flux(id_flux=id_flux, moment=moment, emetteur=emetteur,
                                  certifications=certifications)
                errors = validate_flux(data)
                if errors:
                    raise _invalide(errors, holders)
                target = _cible(workspace, reglages, sortie, moment)
                reg.enregistrer_flux(conn, id_flux=id_flux,
                                     fichier=_relative(workspace, target),
                                     empreinte=hashlib.sha256(data).hexdigest(), cree_le=moment,
                                     passages=pairs)
                _write(target, data)
                written = target
            corrections = _a_rectifier(reg)
        except BaseException:
            if written is not None:  # the register refused the record: no file without it
                written.unlink(missing_ok=True)
            raise
    renvoyes = tuple(r["numero"] for r in rows if r["deja_rejete"] and r["numero"] in holders)
    declares = tuple((ident, holders[ident]) for _, ident in pairs)
    return RapportExport(target, id_flux, declares, tuple(ecartes), pending, renvoyes,
                         orphelins=orphelins, a_rectifier=corrections)


def _a_rectifier(reg: Any) -> tuple[str, ...]:
    """Revoked certificates already declared to the CDC: each needs a correcting
    declaration on the CDC's portal (the flux declares holders, it cannot withdraw one)."""
    return tuple(f"{r['numero']} ({r['prenom']} {r['nom_naissance']}, révoqué le "
                 f"{_date(r['revoque_le'][:10]):%d/%m/%Y})"
                 for r in reg.certificats_revoques() if r["declare"])


def _nettoyer_orphelins(workspace: Workspace, reglages: Reglages, reg: Any) -> tuple[Path, ...]:
    """Remove the flux files an interrupted export left in the flux folder without their
    register row (written, then killed before the commit): a flux file never exists without
    its row. Only certidocs' own files are touched (``accrochage-*.xml`` whose idFlux the
    register does not know)."""
    folder = workspace.root / reglages.dossier
    removed = []
    for path in sorted(folder.glob("accrochage-*.xml")) if folder.is_dir() else []:
        try:
            ident = id_flux_de(path.read_bytes())
        except OSError:
            continue
        if ident and reg.trouver_flux(id_flux=ident) is None:
            path.unlink(missing_ok=True)
            removed.append(path)
    return tuple(removed)


def marquer(workspace: Workspace, fichier: Path, *, acceptes: bool,
            passages: tuple[str, ...] = (), motif: str = "",
            maintenant: dt.datetime | None = None) -> RapportMarquage:
    """Record the CDC's answer to a flux: its passages accepted or rejected.

    The flux is found by its file's fingerprint, else by the ``idFlux`` inside it, else by
    the file name recorded at export (so a moved or deleted file can still be marked).
    Without ``passages``, every passage of the flux still awaiting an answer is marked; with
    them (idTechnique, that is certificate numbers), only those.
    """
    from certidocs.registre import ouvrir_registre, registre_existe

    if not registre_existe(workspace):
        raise AccrochageError(f"{workspace.root} : aucun registre, donc aucun flux exporté")
    with ouvrir_registre(workspace) as reg:
        flux = None
        if fichier.is_file():
            try:
                data = fichier.read_bytes()
            except OSError as exc:
                raise AccrochageError(f"{fichier} : lecture impossible "
                                      f"({exc.strerror or exc})") from None
            flux = (reg.trouver_flux(empreinte=hashlib.sha256(data).hexdigest())
                    or reg.trouver_flux(id_flux=id_flux_de(data)))
            if flux is None:
                raise AccrochageError(f"{fichier} : ce fichier ne correspond à aucun flux exporté "
                                      "par certidocs dans cet espace (ni son empreinte ni son "
                                      "idFlux ne sont au registre)")
        else:
            flux = (reg.trouver_flux(fichier=_relative(workspace, fichier))
                    or reg.trouver_flux(fichier=_relative(workspace, workspace.root / fichier))
                    or reg.trouver_flux(nom=fichier.name))
            if flux is None:
                raise AccrochageError(f"{fichier} : fichier introuvable, et aucun flux de ce nom "
                                      "au registre")
        known = {p["id_technique"] for p in reg.passages_du_flux(flux["id"])}
        unknown = [p for p in passages if p not in known]
        if unknown:
            raise AccrochageError(
                f"{fichier} : passage(s) absent(s) de ce flux : {', '.join(unknown)} "
                f"(passages du flux : {', '.join(sorted(known))}) ; rien n'a été marqué")
        statut = "accepté" if acceptes else "rejeté"
        count = reg.marquer_passages(flux["id"], statut, list(passages) or None, motif,
                                     maintenant)
        after = tuple(reg.passages_du_flux(flux["id"]))
    return RapportMarquage(str(flux["fichier"]), statut, count, after)
