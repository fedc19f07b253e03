"""`certidocs documents`: the Word documents due at this stage of the session.

Before the exam (no resultats.json yet): convocations, attendance sheet, jury convocations.
After the results: individual results, procès-verbal, certificates, bloc attestations, result
letters, notices of non-recevabilité, dysfunction log. Certificates get their number from the
register (sequential per certification and year, the same number when regenerated) and a
verification code signed with the workspace's secret.

Jobs are produced lazily and carry the recipe of their context, not the context: what every
context is built from (``_Donnees.partagees()``: the session's settings, jury, référentiel)
goes once to each rendering process; a job about one candidate carries that candidate's part
(``_Personne``: identity, outcome, certificate, observations, planning), a document of the
whole session the whole data. Workers build the contexts of their documents (QR codes
included), so building contexts is spread over the cores like rendering. No list of contexts
or documents is ever held and a worker's memory does not grow with the number of candidates:
the procès-verbal, the one document listing them all, builds its rows as it renders them
(certidocs.documents.streaming). Each stage is prepared and rendered by a process of its own
(RENDU_A_PART), which ends with it: the caller converts and moves the files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import pickle
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from certidocs.errors import CertidocsError
from certidocs.model import Candidat, Referentiel, Resultat, Session
from certidocs.pipeline import open_checked
from certidocs.resultats import JSON_NAME
from certidocs.session import SessionOuverte
from certidocs.workspace import read_secret

if TYPE_CHECKING:
    from certidocs.documents.render import ListeFichiers

DOCUMENTS = "documents"
STAGES = ("avant", "apres")


class DocumentsError(CertidocsError):
    """Raised when documents are asked for at a stage the session has not reached."""


def _fichiers() -> ListeFichiers:
    from certidocs.documents.render import ListeFichiers as Liste

    return Liste()


@dataclass
class DocumentsReport:
    """What was rendered: files per type, PDFs, warnings, the template folders searched.

    ``jobs`` stays empty: jobs stream through rendering and are not kept (``iter_jobs`` gives
    them again, contexts built, for whoever needs them). ``fichiers`` reads as a list of paths
    but keeps each batch's files as a folder and names (``documents.render.ListeFichiers``),
    and so does ``pdfs``.
    """

    etape: str
    fichiers: ListeFichiers = field(default_factory=_fichiers)
    par_type: dict[str, int] = field(default_factory=dict)
    pdfs: ListeFichiers = field(default_factory=_fichiers)
    avertissements: list[str] = field(default_factory=list)
    jobs: list[Any] = field(default_factory=list)
    templates: list[Path] = field(default_factory=list)


def _hors_session(opened: SessionOuverte, reg: Any) -> None:
    """DocumentError when the register holds a decision for a candidate number session.xlsx
    no longer holds (or a recours names one); DocumentsError when it holds none at all."""
    from certidocs import documents as D
    from certidocs.deliberation import passages_par_lots
    from certidocs.pipeline import resultats_enregistres

    session = opened.lecture.session
    known = {c.numero for c in session.candidats}
    recorded = reg.numeros_session(opened.cle)
    if not recorded:
        raise DocumentsError(f"{opened.dossier} : aucune décision au registre pour cette "
                             "session ; les documents d'après l'examen demandent les "
                             f"résultats : lancez d'abord « certidocs resultats "
                             f"{opened.dossier} »")
    others = [n for n in recorded if n not in known]
    strays: list[Resultat] = []
    for lot in passages_par_lots(reg, opened.cle, others):
        strays += resultats_enregistres(opened, reg, lot).values()
    D.verifier_candidats_connus(session, strays, "le registre")


EXPORT_LECTURE = 1 << 18
"""Characters of resultats.json read at a time when it is compared with the register: the
export of a 10,000-candidate session is 10 MB of text, and parsed whole (``json.loads``) it
took some 60 MiB; read by pieces, one candidate at a time is decoded."""


def _candidats_exportes(path: Path) -> Iterator[Any]:
    """The elements of the top-level « candidats » array of the JSON file ``path``, decoded one
    at a time from pieces of EXPORT_LECTURE characters (the members before it are decoded and
    dropped, those after it not read). Raises ValueError (json.JSONDecodeError included) when
    the file is not a JSON object with such an array, OSError when it cannot be read."""
    decoder = json.JSONDecoder()
    blanks = re.compile(r"[ \t\n\r]*")
    with path.open(encoding="utf-8") as fh:
        buf, pos, eof = "", 0, False

        def fill() -> bool:
            nonlocal buf, pos, eof
            chunk = "" if eof else fh.read(EXPORT_LECTURE)
            if not chunk:
                eof = True
                return False
            buf, pos = buf[pos:] + chunk, 0
            return True

        def peek() -> str:
            # The next character after blanks, not consumed.
            nonlocal pos
            while True:
                found = blanks.match(buf, pos)
                pos = found.end() if found else pos
                if pos < len(buf):
                    return buf[pos]
                if not fill():
                    raise ValueError("fin du fichier inattendue")

        def next_char() -> str:
            nonlocal pos
            char = peek()
            pos += 1
            return char

        def value() -> Any:
            nonlocal pos
            while True:
                peek()
                try:
                    decoded, end = decoder.raw_decode(buf, pos)
                except json.JSONDecodeError:
                    if fill():  # cut in the middle: read on
                        continue
                    raise
                if end == len(buf) and fill():  # a number may go on in the next piece
                    continue
                pos = end
                return decoded

        if next_char() != "{":
            raise ValueError("objet JSON attendu")
        while True:
            key = value()
            if not isinstance(key, str) or next_char() != ":":
                raise ValueError("clé attendue")
            if key == "candidats":
                if next_char() != "[":
                    raise ValueError("« candidats » n'est pas une liste")
                if peek() == "]":
                    return
                while True:
                    yield value()
                    separator = next_char()
                    if separator == "]":
                        return
                    if separator != ",":
                        raise ValueError("« , » attendue entre deux candidats")
            value()
            if next_char() != ",":
                raise ValueError("« candidats » absent")


class _EcartsExport:
    """How resultats.json differs from the register's outcomes (an export edited by hand, or
    left over): one line per candidate, none when it agrees or is absent. Nothing is read from
    it but for this comparison, and only a digest of each candidate's line is held (the
    export is read a candidate at a time, the register's outcomes come a lot at a time)."""

    def __init__(self, dossier: Path) -> None:
        path = dossier / JSON_NAME
        self.lignes: list[str] = []
        self.exportes: dict[str, tuple[Any, bytes]] | None = None
        if not path.is_file():
            return
        try:
            self.exportes = {str(c["numero"]): (c.get("decision"), _empreinte_blocs(c["blocs"]))
                             for c in _candidats_exportes(path)}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.lignes.append(f"{path} est illisible ; seul le registre fait foi (relancez "
                               f"« certidocs resultats {dossier} » pour le réécrire)")

    def comparer(self, resultats: Iterable[Resultat]) -> None:
        """Compare these outcomes of the register with their lines of the export."""
        from certidocs.resultats import resultat_json

        if self.exportes is None:
            return
        for r in resultats:
            mine = resultat_json(r)
            theirs = self.exportes.pop(r.numero, None)
            if theirs is None:
                self.lignes.append(f"{r.numero} : absent de {JSON_NAME}, « {r.decision} » au "
                                   "registre")
            elif theirs[0] != mine["decision"]:
                self.lignes.append(f"{r.numero} : « {theirs[0]} » dans {JSON_NAME}, "
                                   f"« {r.decision} » au registre")
            elif theirs[1] != _empreinte_blocs(mine["blocs"]):
                self.lignes.append(f"{r.numero} : résultats par bloc différents de ceux du "
                                   "registre")

    def fin(self) -> list[str]:
        """The differences, those of candidates only in the export last."""
        left = self.exportes or {}
        return self.lignes + [f"{n} : dans {JSON_NAME} mais sans décision au registre"
                              for n in left]


def _empreinte_blocs(blocs: Any) -> bytes:
    """16 bytes standing for a candidate's results by bloc (equal dicts, equal digests)."""
    import hashlib

    text = json.dumps(blocs, sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def current_stage(dossier: Path) -> str:
    """« apres » once results exist, else « avant »."""
    return "apres" if (dossier / JSON_NAME).exists() else "avant"


MAGASIN_PREFIX = ".certidocs-donnees-"
"""Folder (in the session's folder, removed at the end of the batch) of a batch's
``_Magasin``."""


class _Magasin:
    """Each candidate's outcome, certificate and observations for one batch, on disk: pickled
    a lot of deliberation.PASSAGES_LOT candidates at a time, in the session's order. The main
    process reads them back a lot at a time as it makes the jobs (type by type), the worker of
    the procès-verbal as it renders the rows, so that neither holds a network session's
    thousands: with them held, 10,000 outcomes and certificates took some 30 MiB in the main
    process and as much again in the procès-verbal's worker (30/11/2026).

    Picklable (its path and index travel, not the lot in hand): the copy sent to a worker
    reads the same file, which the batch removes when it ends.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offsets: list[int] = []  # where each lot starts in the file
        self.index: dict[str, int] = {}  # candidate number → lot
        self._lot = -1
        self._held: dict[str, tuple[Any, ...]] = {}

    @classmethod
    def creer(cls, path: Path, lots: Iterable[dict[str, tuple[Any, ...]]]) -> _Magasin:
        """The store of ``lots`` (candidate number → (Resultat or None, CertificatInfo or
        None, observations or None, Candidat)), written to ``path``."""
        store = cls(path)
        with path.open("wb") as fh:
            for lot in lots:
                store.index.update(dict.fromkeys(lot, len(store.offsets)))
                store.offsets.append(fh.tell())
                pickle.dump(lot, fh, protocol=pickle.HIGHEST_PROTOCOL)
        return store

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "offsets": self.offsets, "index": self.index}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])  # type: ignore[misc]
        self.offsets, self.index = state["offsets"], state["index"]

    def __len__(self) -> int:
        return len(self.index)

    def get(self, numero: str) -> tuple[Any, ...] | None:
        """Candidate ``numero``'s (resultat, certificat, observations, candidat), None for a
        number the session does not have."""
        lot = self.index.get(numero)
        if lot is None:
            return None
        if lot != self._lot:
            with self.path.open("rb") as fh:
                fh.seek(self.offsets[lot])
                self._held = pickle.load(fh)
            self._lot = lot
        return self._held.get(numero)


class _Vue(Mapping[str, Any]):
    """One field of a ``_Magasin`` (0: outcomes, 2: observations) as a read-only mapping
    from candidate number, in the session's order (the store's): what the procès-verbal's
    context reads (a candidate without one is not in it)."""

    def __init__(self, magasin: _Magasin, champ: int) -> None:
        self.magasin, self.champ = magasin, champ

    def __getitem__(self, numero: str) -> Any:
        entry = self.magasin.get(numero)
        if entry is None or entry[self.champ] is None:
            raise KeyError(numero)
        return entry[self.champ]

    def __iter__(self) -> Iterator[str]:
        for numero in self.magasin.index:  # written in the session's order
            entry = self.magasin.get(numero)
            if entry is not None and entry[self.champ] is not None:
                yield numero

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _CandidatLu:
    """Candidate ``numero`` read from a ``_Magasin``: what builds each item of the session's
    candidates (``context.LazyRows``) in the job of a document of the whole session, instead
    of the candidates themselves (10,000 unpickled in the procès-verbal's worker took some
    15 MiB). A class, not a closure: the job is pickled."""

    def __init__(self, magasin: _Magasin) -> None:
        self.magasin = magasin

    def __call__(self, numero: str) -> Candidat:
        entry = self.magasin.get(numero)
        assert entry is not None, f"candidate {numero} is in the store"
        candidat: Candidat = entry[3]
        return candidat


@dataclass(frozen=True)
class _Donnees:
    """What every context of a batch is built from. The per-candidate data after the exam
    (outcome, certificate, observations) stays in ``magasin``, read when a job is made."""

    session: Session
    referentiel: Referentiel
    organisme: dict[str, Any]
    candidats: dict[str, Candidat]
    scellement: dict[str, Any]
    magasin: _Magasin | None = None
    certifies: frozenset[str] = frozenset()  # numbers of the candidates given a certificate

    @classmethod
    def of(cls, session: Session, referentiel: Referentiel, organisme: dict[str, Any],
           scellement: dict[str, Any] | None = None, magasin: _Magasin | None = None,
           certifies: Iterable[str] = ()) -> _Donnees:
        """The data, with the look-up table of the candidates built once."""
        return cls(session, referentiel, organisme, {c.numero: c for c in session.candidats},
                   scellement or {}, magasin, frozenset(certifies))

    def partagees(self) -> _Donnees:
        """What every rendering process gets once: this without the candidates, their
        outcomes, certificates, observations and planning (a per-candidate job carries its
        own: ``_Personne``), so that a worker's memory does not grow with the session."""
        import dataclasses

        return dataclasses.replace(
            self, session=dataclasses.replace(self.session, candidats=(), planning=()),
            candidats={}, magasin=None, certifies=frozenset())

    def entree(self, numero: str) -> tuple[Any, Any, Any]:
        """Candidate ``numero``'s (resultat, certificat, observations); Nones without."""
        found = self.magasin.get(numero) if self.magasin is not None else None
        return (found[0], found[1], found[2]) if found is not None else (None, None, None)

    def personne(self, numero: str, planning: tuple[Any, ...]) -> _Personne:
        """What a document about candidate ``numero`` needs beyond ``partagees()``;
        ``planning`` is the candidate's part of the session's planning."""
        return _Personne(self.candidats[numero], *self.entree(numero), planning)

    def avec(self, p: _Personne) -> _Donnees:
        """This data (``partagees()`` or whole) holding candidate ``p`` as the whole did."""
        import dataclasses

        return dataclasses.replace(
            self, session=dataclasses.replace(self.session, candidats=(p.candidat,),
                                              planning=p.planning),
            candidats={p.candidat.numero: p.candidat})

    def pour_session(self) -> _Donnees:
        """This data for the job of a document of the whole session: its candidates read
        from the store as they are used, when there is one."""
        import dataclasses

        if self.magasin is None:
            return self
        from certidocs.documents.context import LazyRows

        ordre = [c.numero for c in self.session.candidats]
        # The contexts only read ``session.candidats`` as a sequence (length, index, loop).
        build: Any = _CandidatLu(self.magasin)  # a Candidat, where LazyRows says Context
        lazy: Any = LazyRows(ordre, build)
        return dataclasses.replace(
            self, session=dataclasses.replace(self.session, candidats=lazy), candidats={})

    def candidat(self, numero: str) -> Candidat:
        """Candidate ``numero`` (KeyError when the session has none)."""
        if numero in self.candidats:
            return self.candidats[numero]
        entry = self.magasin.get(numero) if self.magasin is not None else None
        if entry is None:
            raise KeyError(numero)
        found: Candidat = entry[3]
        return found

    def resultats(self) -> Mapping[str, Resultat]:
        """Every outcome by candidate number, read from the store as it is used."""
        return self._vue(0)

    def observations(self) -> Mapping[str, dict[str, str]]:
        """Every candidate's observations (criterion code → text), read as they are used."""
        return self._vue(2)

    def _vue(self, champ: int) -> Mapping[str, Any]:
        if self.magasin is None:
            return {}
        return _Vue(self.magasin, champ)


@dataclass(frozen=True)
class _Personne:
    """One candidate's part of ``_Donnees``: sent with each job about that candidate (a few
    kilobytes), instead of every candidate's data to every worker."""

    candidat: Candidat
    resultat: Resultat | None
    certificat: Any  # CertificatInfo or None
    observations: dict[str, str] | None
    planning: tuple[Any, ...]


def _contexte_personne(shared: _Donnees, nom: str, p: _Personne) -> Mapping[str, Any]:
    """The context of a document about one candidate, from the worker's shared data and the
    job's ``_Personne``."""
    return _contexte(shared.avec(p), nom, p.candidat.numero, p)


def _contexte_complet(_shared: _Donnees, nom: str, key: Any, d: _Donnees) -> Mapping[str, Any]:
    """The context of a document of the whole session (or of a juror, who is convoked for
    every candidate, or of a recours), from the whole data ``d`` sent with the job (its
    outcomes read from its store as the rows are rendered)."""
    return _contexte(d, nom, key, None)


def _contexte(d: _Donnees, nom: str, key: Any, p: _Personne | None) -> Mapping[str, Any]:
    """The context of one document: ``key`` is the candidate's number (``p`` their part), or
    the juror's or the recours' index in the session (None for a session document)."""
    from certidocs import documents as D

    session, ref, organisme = d.session, d.referentiel, d.organisme
    kind = D.TYPES[nom]
    if kind.par == "session":
        builder = getattr(D, f"contexte_{nom}")
        context: Mapping[str, Any] = (
            builder(session, ref, organisme, d.resultats(), scellement=d.scellement,
                    observations=d.observations())
            if nom == "proces_verbal" else builder(session, ref, organisme))
        return context
    if kind.par == "jure":
        return D.contexte_convocation_jury(session, ref, organisme, session.jury[key])
    if kind.par == "recours":
        rec = session.recours[key]
        return D.contexte_non_recevabilite(session, ref, organisme, d.candidat(rec.numero), rec)
    assert p is not None, "a document about a candidate is made from their _Personne"
    c = p.candidat
    if kind.etape == "avant":
        return D.contexte_convocation_candidat(session, ref, organisme, c)
    r = p.resultat
    assert r is not None, "documents after the exam are made for candidates with an outcome"
    if nom == "certificat":
        return D.contexte_certificat(session, ref, organisme, c, r, p.certificat)
    if nom == "notification_resultats":
        return D.contexte_notification_resultats(session, ref, organisme, c, r, p.certificat)
    if nom == "fiche_resultats":
        return D.contexte_fiche_resultats(session, ref, organisme, c, r,
                                          observations=p.observations)
    built: Mapping[str, Any] = getattr(D, f"contexte_{nom}")(session, ref, organisme, c, r)
    return built


def _jobs(d: _Donnees, etape: str, types: tuple[str, ...] | None) -> Iterator[Any]:
    """The documents due, in order (type by type, candidates in the session's order), each
    with the recipe of its context."""
    from certidocs import documents as D
    from certidocs.documents.render import ContextRecipe
    from certidocs.pipeline import expects_grid

    session = d.session
    planning: dict[str, list[Any]] = {}
    for e in session.planning:
        planning.setdefault(e.numero, []).append(e)

    def job(nom: str, file_name: str, key: Any) -> Any:
        if D.TYPES[nom].par == "candidat":
            person = d.personne(key, tuple(planning.get(key, ())))
            return D.RenderJob(nom, file_name, ContextRecipe(_contexte_personne, (nom, person)))
        # One job of the kind per session, juror or recours: it carries the whole data, its
        # candidates and their outcomes read from the store (when there is one) as used.
        whole = d.pour_session()
        return D.RenderJob(nom, file_name, ContextRecipe(_contexte_complet, (nom, key, whole)))

    for nom, kind in D.TYPES.items():
        if kind.etape != etape or (types and nom not in types):
            continue
        if kind.par == "session":
            yield job(nom, D.safe_filename(nom, session.nom), None)
        elif kind.par == "jure":
            for i, j in enumerate(session.jury):
                # Homonyms are refused by the session checks: one file name per juror.
                yield job(nom, D.safe_filename(nom, j.nom.upper(), j.prenom), i)
        elif kind.par == "recours":
            for i, rec in enumerate(session.recours):
                c = d.candidats.get(rec.numero)
                if c is None or not D.concerne(nom, recours=rec):
                    continue
                yield job(nom, D.safe_filename(nom, c.numero, c.nom.upper(), c.prenom), i)
        else:
            for c in session.candidats:
                file_name = D.safe_filename(c.numero, c.nom.upper(), c.prenom)
                if etape == "avant":
                    if expects_grid(c):
                        yield job(nom, file_name, c.numero)
                    continue
                r = d.entree(c.numero)[0]
                if r is None or not D.concerne(nom, resultat=r):
                    continue
                yield job(nom, file_name, c.numero)


def _certificates(opened: SessionOuverte, reg: Any, resultats: list[Resultat],
                  by_number: Mapping[str, Candidat]) -> dict[str, Any]:
    """Number, verification code, signed token, date and place of each certified candidate's
    certificate among ``resultats`` (one lot of the session's outcomes, whose candidates
    ``by_number`` holds), drawn from (and recorded in) the register in one transaction.

    Only a sealed session gets certificates (the caller seals it first). A certificate keeps
    its number when drawn again, so a batch interrupted between two lots draws the same
    numbers when it is run again.
    """
    from certidocs.documents import CertificatInfo, verification_code
    from certidocs.rules import hors_enregistrement
    from certidocs.signature import Attestation, read_private_key, sign_token

    session, ref = opened.lecture.session, opened.referentiel
    certified = [r for r in resultats if r.decision == "Certifié"]
    if not certified:
        return {}
    info = session.info
    day = info.date_deliberation or info.date_fin or info.date_debut or dt.date.today()
    held = info.date_fin or info.date_debut or day
    refused = hors_enregistrement(ref.certification, held)
    if refused:
        raise DocumentsError(f"{opened.dossier} : aucun certificat ne peut être délivré pour "
                             f"cette session : {refused}")
    secret = read_secret(opened.workspace)
    key = read_private_key(opened.workspace.root)
    out: dict[str, Any] = {}
    with reg.transaction("certificats délivrés", opened.cle) as conn:
        sid = reg.session_id(conn, opened.cle, session.nom, ref.code, info.date_debut,
                             info.date_fin, info.lieu, session.identifiant)
        for r in certified:
            c = by_number.get(r.numero)
            if c is None:
                continue
            numero, issued = reg.certificat(
                conn, session_id=sid, nom_naissance=c.nom_naissance, prenom=c.prenom,
                date_naissance=c.date_naissance, referentiel=ref.code, date_delivrance=day)
            code = verification_code(secret, numero, c.nom_naissance, c.prenom,
                                     c.date_naissance, issued)
            jeton = sign_token(key, Attestation(numero, c.nom_naissance, c.prenom,
                                                c.date_naissance, issued, ref.code,
                                                ref.certification.intitule))
            reg.enregistrer_code(conn, numero, code, jeton)
            out[c.numero] = CertificatInfo(numero, code, issued, info.lieu, jeton)
    return out


@dataclass
class _Lot:
    """One stage's documents, ready to render."""

    etape: str
    types: tuple[str, ...] | None
    donnees: _Donnees
    templates: list[Path]
    avertissements: list[str]


def _stages(dossier: Path, etape: str | None,
            types: tuple[str, ...] | None) -> list[tuple[str, tuple[str, ...] | None]]:
    """The stages to render (one, or both when ``types`` spans them) and their types."""
    from certidocs import documents as D

    unknown = [t for t in types or () if t not in D.TYPES]
    if unknown:
        raise DocumentsError(f"type(s) de document inconnu(s) : {', '.join(unknown)} (types : "
                             f"{', '.join(D.TYPES)})")
    if types and etape is None:
        stages = {D.TYPES[t].etape for t in types}
        etape = stages.pop() if len(stages) == 1 else None
        if etape is None:
            return [(s, tuple(t for t in types if D.TYPES[t].etape == s)) for s in STAGES
                    if any(D.TYPES[t].etape == s for t in types)]
    return [(etape or current_stage(dossier), types)]


def _prepare(dossier: Path, opened: SessionOuverte, etape: str,
             types: tuple[str, ...] | None, folder: Path | None = None) -> _Lot:
    """Read the results, draw the certificates, check the mandatory mentions. After the exam,
    the session's outcomes, certificates and observations are read, drawn and checked a lot
    of deliberation.PASSAGES_LOT candidates at a time, and kept in a ``_Magasin`` written in
    ``folder``."""
    from certidocs import documents as D

    ws = opened.workspace
    organisme = D.organisme_depuis_config(ws.config, ws.root)
    session = opened.lecture.session
    warnings = []
    magasin: _Magasin | None = None
    scellement: dict[str, Any] = {}
    certifies: list[str] = []
    if etape == "apres":
        from certidocs.deliberation import empreinte_affichee, sceller
        from certidocs.registre import ouvrir_registre

        assert folder is not None, "the documents after the exam need a folder for their data"
        with ouvrir_registre(ws) as reg:
            reg.exiger_integrite()
            _hors_session(opened, reg)
            seal = sceller(opened, reg)  # the first documents after the exam seal the session
            if not seal.deja_scelle:
                warnings.append(f"session scellée (délibération) : {seal.nombre} décision(s), "
                                f"empreinte {empreinte_affichee(seal.empreinte)}")
            scellement = {"empreinte": empreinte_affichee(seal.empreinte),
                          "version": seal.version}
            suivi = _Suivi(dossier, types)
            magasin = _Magasin.creer(folder / "personnes.pickle",
                                     _lots_personnes(dossier, opened, reg, suivi))
        certifies = suivi.certifies
        warnings += suivi.avertissements(opened, organisme)
    donnees = _Donnees.of(session, opened.referentiel, organisme, scellement, magasin,
                          certifies)
    warnings += [f"réglage à compléter : {r}" for r in D.reglages_manquants(organisme, etape)]
    if etape == "apres":
        warnings += _presences_vides(opened.lecture, suivi.juges)
    return _Lot(etape, types, donnees, [ws.templates_dir, D.default_templates_dir()], warnings)


class _Suivi:
    """What ``_prepare`` gathers from the lots of outcomes for its warnings, without holding
    them: the certified candidates' mentions, whether bloc attestations are due, who was
    judged, how resultats.json differs from the register."""

    def __init__(self, dossier: Path, types: tuple[str, ...] | None) -> None:
        self.types = types
        self.certifies: list[str] = []
        self.attestations = False
        self.juges: set[str] = set()
        self.ecarts = _EcartsExport(dossier)
        self.non_relues: list[str] = []  # whose observations could not be read again

    def voulu(self, *noms: str) -> bool:
        """Whether one of these document types is rendered."""
        return not self.types or any(n in self.types for n in noms)

    def lot(self, resultats: list[Resultat], certificats: dict[str, Any]) -> None:
        """Take one lot's outcomes and certificates into account."""
        from certidocs import documents as D

        self.certifies += certificats
        self.juges.update(r.numero for r in resultats if r.decision != "Absent")
        self.attestations = self.attestations or any(
            D.concerne("attestation_blocs", resultat=r) for r in resultats)
        self.ecarts.comparer(resultats)

    def avertissements(self, opened: SessionOuverte, organisme: dict[str, Any]) -> list[str]:
        """The warnings, in the order the documents command gives them."""
        from certidocs import documents as D

        out = []
        if self.non_relues:
            out.append("observations des jurés non reprises pour " + ", ".join(self.non_relues)
                       + " : la grille n'est plus celle sur laquelle la décision a été scellée "
                       "(modifiée ou retirée depuis)")
        out += [f"resultats.json diffère du registre, qui seul fait foi : {e}"
                for e in self.ecarts.fin()]
        holders: dict[str, list[str]] = {}
        by_number = {c.numero: c for c in opened.lecture.session.candidats}
        for numero in self.certifies:
            c = by_number[numero]
            for mention in D.mentions_manquantes(opened.referentiel, organisme, c):
                holders.setdefault(mention, []).append(f"{c.prenom} {c.nom}")
        by_holders: dict[tuple[str, ...], list[str]] = {}
        for mention, names in holders.items():
            by_holders.setdefault(tuple(names), []).append(mention)
        for holding, mentions in by_holders.items():
            who = ("tous les certificats" if len(holding) == len(self.certifies)
                   else ", ".join(holding))
            out += _mentions_groupees(f"sur le certificat ({who})", mentions)
        if self.attestations and self.voulu("attestation_blocs"):
            out += _mentions_groupees("sur les attestations de blocs", D.mentions_manquantes(
                opened.referentiel, organisme, blocs=True))
        return out


def _mentions_groupees(where: str, mentions: list[str]) -> list[str]:
    """One warning per source of the missing mentions (« référentiel CPECOM (…) »,
    « certidocs.toml »…) on one kind of document (``where``), its mentions joined by « ; »:
    the demo's référentiel, with no official data, gave nine lines for two documents.
    ``mentions`` are documents.mentions_manquantes' phrases, « source : what »."""
    sources: dict[str, list[str]] = {}
    for mention in mentions:
        source, _, what = mention.partition(" : ")
        sources.setdefault(source, []).append(what)
    heads = ("mention obligatoire manquante", "mentions obligatoires manquantes")
    return [f"{heads[len(whats) > 1]} {where} : {source} : {' ; '.join(whats)}"
            for source, whats in sources.items()]


def _lots_personnes(dossier: Path, opened: SessionOuverte, reg: Any, suivi: _Suivi
                    ) -> Iterator[dict[str, tuple[Any, ...]]]:
    """The session's candidates, deliberation.PASSAGES_LOT at a time in the session's order:
    candidate number → (Resultat or None, CertificatInfo or None, observations or None,
    Candidat). Certificates are drawn, and observations read, only when a document printing
    them is rendered."""
    from certidocs.deliberation import PASSAGES_LOT, passages_par_lots
    from certidocs.pipeline import resultats_enregistres

    candidats = list({c.numero: c for c in opened.lecture.session.candidats}.values())
    numeros = [c.numero for c in candidats]
    for k, passages in enumerate(passages_par_lots(reg, opened.cle, numeros)):
        lot = {c.numero: c for c in candidats[k * PASSAGES_LOT:(k + 1) * PASSAGES_LOT]}
        found = resultats_enregistres(opened, reg, passages)
        resultats = [found[p["numero"]] for p in passages]
        certificats = (_certificates(opened, reg, resultats, lot)
                       if suivi.voulu("certificat", "notification_resultats") else {})
        observations: dict[str, dict[str, str]] = {}
        if suivi.voulu("fiche_resultats", "proces_verbal"):
            observations = _observations(dossier, opened, passages, resultats, lot,
                                         suivi.non_relues)
        suivi.lot(resultats, certificats)
        yield {n: (found.get(n), certificats.get(n), observations.get(n), c)
               for n, c in lot.items()}


def _observations(dossier: Path, opened: SessionOuverte, passages: list[dict[str, Any]],
                  resultats: list[Resultat], by_number: Mapping[str, Candidat],
                  unread: list[str]) -> dict[str, dict[str, str]]:
    """The jurors' observations of the judged candidates among ``resultats`` (one lot, with
    their ``passages``; ``by_number`` holds its candidates), as the sealed decision was taken
    with them: from the register's
    evidence (``preuves["observations"]``, kept since the grid was read). A passage recorded
    before the evidence kept them has its grid read again, only when it is byte for byte the
    one the decision was read from (its SHA-256 in the evidence): what the documents print
    beside a decision is what the jury wrote for it. The candidates whose grid changed since
    are added to ``unread`` (not read). The grids to read again are read over the cores, as
    by ``resultats``."""
    from certidocs.parallel import parallel_map
    from certidocs.pipeline import _jobs_lecture, file_sha256

    judged = {r.numero for r in resultats if r.decision != "Absent"}
    kept: dict[str, dict[str, str]] = {}
    sealed: dict[str, str | None] = {}  # older passages: the grid's SHA-256 read
    for p in passages:
        if p["numero"] not in judged:
            continue
        evidence = p["preuves"] or {}
        if "observations" in evidence:
            if evidence["observations"]:
                kept[p["numero"]] = dict(evidence["observations"])
        else:
            sealed[p["numero"]] = (evidence.get("grille") or {}).get("sha256")
    todo = []
    if sealed:
        for job in _jobs_lecture(dossier, opened, [by_number[n] for n in sealed]):
            numero = job.candidat.numero
            if not sealed.get(numero):
                continue
            if file_sha256(job.path) != sealed[numero]:
                unread.append(f"{numero} {job.candidat.prenom} {job.candidat.nom}")
                continue
            todo.append(job)
    found = parallel_map(_observations_grille, todo)
    kept.update({job.candidat.numero: notes for job, notes in zip(todo, found, strict=True)
                 if notes})
    return kept


def _observations_grille(job: Any) -> dict[str, str]:
    """The observations written in one grid (a ``pipeline._ReadJob``)."""
    from certidocs.grid.reader import read_grid

    reading = read_grid(job.path, referentiel=job.referentiel, session_nom=job.session_nom,
                        candidat=job.candidat, blocs=job.blocs, fichier_affiche=job.shown,
                        dossier=job.dossier, emission=job.emission)
    return dict(reading.observations)


def _presences_vides(lecture: Any, judged: set[str]) -> list[str]:
    """One warning listing the candidates ``judged`` (their numbers) while « Présence » was
    left blank: they are counted present (their grid was read), which the PV's signatories
    should confirm."""
    from certidocs.session.layout import CANDIDATS

    cells = [lecture.cellule(CANDIDATS, c.ligne, "presence") for c in lecture.session.candidats
             if not c.presence and c.numero in judged]
    if not cells:
        return []
    shown = ", ".join(cells[:10]) + (" …" if len(cells) > 10 else "")
    return [f"« Présence » non renseignée pour {len(cells)} candidat(s) évalué(s) ({shown}) : "
            "ils sont comptés présents au procès-verbal ; complétez la colonne « Présence » "
            "de session.xlsx"]


def iter_jobs(dossier: Path, *, etape: str | None = None,
              types: tuple[str, ...] | None = None) -> Iterator[Any]:
    """The documents ``produire_documents`` renders for the same arguments, one at a time,
    each a RenderJob with its context built (the benchmark renders them with plain docxtpl).

    Certificates get their numbers from the register as in ``produire_documents`` (the same
    numbers when already issued).
    """
    from certidocs import documents as D

    stages = _stages(dossier, etape, types)
    opened = open_checked(dossier)
    for stage, wanted in stages:
        with _dossier_donnees(dossier) as folder:
            lot = _prepare(dossier, opened, stage, wanted, folder)
            for job in _jobs(lot.donnees, stage, wanted):
                yield D.RenderJob(job.type, job.nom, job.contexte(lot.donnees))


@contextlib.contextmanager
def _dossier_donnees(dossier: Path) -> Iterator[Path]:
    """A private folder (mode 0700) in the session's folder for a batch's ``_Magasin``,
    removed with what it holds when the batch ends, whatever the outcome: the candidates'
    data stays with the session, and nothing is left behind. One that a killed run left (its
    lock free) is removed when the next batch starts (documents.render.private_folder)."""
    from certidocs.documents.render import private_folder

    with private_folder(dossier, MAGASIN_PREFIX) as folder:
        yield folder


RENDU_A_PART = True
"""Whether each stage's documents are prepared and rendered by a Python process of its own
(certidocs.apart), the caller then converting them to PDF (in another) and moving them into
place, rather than by the caller. The session's candidates are read among the garbage of
their reading and pin Python's arenas long after: in one process, whoever waits through the
PDF conversion kept what the rendering left it, 76 MiB at 1,000 candidates and 92 MiB at
10,000 (after a collection and malloc_trim, 01/12/2026), and the console would keep it all
day. The process apart ends with its stage; the session is then read once per stage (0.7 s
at 1,000 candidates, 2.7 s at 10,000). Tests that replace functions of the rendering set it
False, so that their replacements are the ones called."""


def produire_documents(dossier: Path, *, etape: str | None = None,
                       types: tuple[str, ...] | None = None, pdf: bool = False,
                       remplacer_modifies: bool = False,
                       progress: Any = None) -> DocumentsReport:
    """Render the documents due (or those of ``etape`` / ``types``) into
    ``dossier/documents/<type>/``; all or nothing for each stage (when ``types`` spans both,
    the documents of before the exam are written first). ``progress(done, total)`` follows the
    rendering, stage by stage. Each stage is prepared and rendered apart (RENDU_A_PART), its
    PDFs made and its files moved into place here. Raises what reading the session, the
    register, the templates or LibreOffice raise (CertidocsError); nothing of a stage is
    written then."""
    from certidocs.documents.render import finish_batch, staging_folder
    from certidocs.errors import SessionError
    from certidocs.session.creator import FILENAME
    from certidocs.session.reader import session_introuvable

    if not (dossier / FILENAME).exists():  # said before documents/ is made in a mistyped folder
        raise SessionError(session_introuvable(dossier / FILENAME))
    stages = _stages(dossier, etape, types)
    report = DocumentsReport("+".join(stage for stage, _ in stages))
    opened = None if RENDU_A_PART else open_checked(dossier)
    outdir = dossier / DOCUMENTS
    for stage, wanted in stages:
        with staging_folder(outdir) as staging:
            if opened is None:
                from certidocs.apart import run_apart

                rendue = run_apart(_rendre_etape, dossier, stage, wanted, staging,
                                   lieu="rendu des documents",
                                   arret="la préparation des documents s'est arrêtée",
                                   progress=progress)
            else:
                rendue = _rendre_etape(dossier, stage, wanted, staging, progress, opened)
            report.templates = rendue.templates
            report.avertissements += rendue.avertissements
            result = finish_batch(rendue.rendu, staging, outdir, pdf=pdf,
                                  overwrite_edited=remplacer_modifies)
        report.fichiers += result.fichiers
        report.avertissements += result.avertissements
        report.pdfs += result.pdfs
        report.par_type.update({t: len(paths) for t, paths in result.documents.items()})
        report.avertissements += _retirer_revoques(dossier, rendue.revoques)
        if opened is not None:
            # The next stage must not start from this one's high-water (see api._etape).
            from certidocs.documents.pdf import release_memory

            gc.collect()
            release_memory()
    return report


@dataclass
class _EtapeRendue:
    """What ``_rendre_etape`` gives back: small, whatever the session's size (the documents'
    names, in folders, are its largest part)."""

    templates: list[Path]
    avertissements: list[str]
    rendu: Any  # documents.render.Rendu
    revoques: list[tuple[str, str]]
    """This session's revoked certificates whose holder is no longer certified: (certificate
    number, candidate number)."""


def _rendre_etape(dossier: Path, etape: str, types: tuple[str, ...] | None, staging: Path,
                  progress: Any = None, opened: SessionOuverte | None = None) -> _EtapeRendue:
    """Prepare and render one stage's documents into ``staging`` (documents.render_staged),
    reading the session first unless ``opened`` is given."""
    from certidocs.documents.render import render_staged

    if opened is None:
        opened = open_checked(dossier)
    with _dossier_donnees(dossier) as folder:
        lot = _prepare(dossier, opened, etape, types, folder)
        total = sum(1 for _ in _jobs(lot.donnees, etape, types)) if progress else 0
        rendu = render_staged(_jobs(lot.donnees, etape, types), lot.templates, staging,
                              shared=lot.donnees.partagees(), progress=progress, total=total)
    revoques = _revoques(opened, lot.donnees.certifies) if etape == "apres" else []
    return _EtapeRendue(lot.templates, lot.avertissements, rendu, revoques)


REVOQUES = "revoques"
"""Sub-folder of ``documents/certificat/`` where the files of a revoked certificate are moved:
kept (nothing is lost), out of the way of what gets printed and sent."""


def _revoques(opened: SessionOuverte, certifies: Iterable[str]) -> list[tuple[str, str]]:
    """This session's revoked certificates whose holder is no longer among ``certifies``:
    (certificate number, candidate number), from the register."""
    from certidocs.registre import ouvrir_registre

    kept = set(certifies)
    with ouvrir_registre(opened.workspace) as reg:
        revoked = reg.certificats_revoques(opened.cle)
    return [(k["numero"], k["numero_candidat"]) for k in revoked
            if k["numero_candidat"] and k["numero_candidat"] not in kept]


def _retirer_revoques(dossier: Path, revoques: list[tuple[str, str]]) -> list[str]:
    """Move the certificate files of ``revoques`` (see ``_revoques``) into
    ``documents/certificat/revoques/``: kept, out of the way of what gets printed and sent;
    one warning per certificate."""
    folder = dossier / DOCUMENTS / "certificat"
    if not folder.is_dir():
        return []
    out = []
    for certificat, numero in revoques:
        moved = []
        for path in sorted(folder.glob(f"{numero}_*")):
            if path.is_file():
                (folder / REVOQUES).mkdir(exist_ok=True)
                path.replace(folder / REVOQUES / path.name)
                moved.append(path.name)
        if moved:
            out.append(f"certificat {certificat} révoqué : {', '.join(moved)} retiré(s) dans "
                       f"{folder / REVOQUES} (ne pas l'envoyer)")
    return out
