"""What the annual review reads: the register first, then the session folders for what the
register does not keep (the jury's composition, the dysfunction logs).

Everything is turned into pandas DataFrames, one row per fact, with the column names of the
register; ``calculs`` makes the tables people read from them.

**What exists about jurors.** Since the grid reader reads the jury's visa (Synthèse sheet),
the register keeps, in each passage's evidence, the jurors who signed the grid
(``preuves["jures"]``, source « visa »): the review then credits each juror with the grids
they signed (``signatures``). Passages recorded before, or whose visa was emptied (source
« jury de la session »), say nothing of who evaluated them: for those the only link between a
juror and a candidate is the session, the Jury sheet of its ``session.xlsx``, and the review
compares jury compositions (sessions), and a juror through the sessions they sat in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certidocs.errors import CertidocsError, RegistreError
from certidocs.model import Referentiel
from certidocs.workspace import Workspace


class BilanError(CertidocsError):
    """Raised when the annual review cannot be built (no register, nothing in that year)."""


@dataclass
class Donnees:
    """Everything the review is computed from, for one year (and one certification or all).

    DataFrames (pandas), one row per fact:

    - ``passages``: passage_id, candidat_id, session_cle, session, referentiel, date_session,
      date_fin, lieu, code_postal, voie_acces, decision, rattrapage (bool);
    - ``evaluations``: passage_id, session_cle, referentiel, bloc, critere, acquis (bool), from
      each passage's ``preuves["evaluations"]`` (empty cells, None, are left out);
    - ``blocs``: passage_id, session_cle, referentiel, bloc, acquis, total, valide,
      capitalise, from each passage's ``detail["blocs"]``;
    - ``sessions``: one row per session (Registre.bilan_sessions);
    - ``recours``, ``revisions``: Registre.bilan_recours / bilan_revisions;
    - ``jury``: session_cle, jure, college: the Jury sheet of each session's session.xlsx;
    - ``signatures``: passage_id, jure: who signed each grid, from ``preuves["jures"]`` when
      its source is the visa (one row per juror and grid; empty for a year without visas);
    - ``dysfonctionnements``: session, date, description, action_corrective, responsable.

    ``referentiels`` maps a code to its Referentiel (None when its YAML is not found);
    ``notes`` says, in French, what could not be read and so is missing from the review.
    """

    annee: int
    referentiel: str | None
    passages: Any
    evaluations: Any
    blocs: Any
    sessions: Any
    recours: Any
    revisions: Any
    jury: Any
    dysfonctionnements: Any
    referentiels: dict[str, Referentiel | None]
    signatures: Any
    journal: tuple[int, str]
    notes: list[str] = field(default_factory=list)


def charger(ws: Workspace, annee: int, referentiel: str | None = None) -> Donnees:
    """Read the register of workspace ``ws`` and its session folders for year ``annee``.

    BilanError when there is no register or no passage in that year (for that certification).
    """
    import pandas as pd

    from certidocs.grid.reader import SOURCE_VISA
    from certidocs.registre import Registre

    if not ws.registre_path.is_file():
        raise BilanError(f"{ws.registre_path} : registre introuvable ; le bilan se fait à partir "
                         "du registre d'un espace de travail où des résultats ont été "
                         "enregistrés")
    with Registre(ws.registre_path) as reg:
        rows = reg.bilan_passages(annee, referentiel)
        sessions = reg.bilan_sessions(annee, referentiel)
        recours = reg.bilan_recours(annee, referentiel)
        revisions = reg.bilan_revisions(annee, referentiel)
        seq, _ = reg.tete()
        stamp = reg.conn.execute("SELECT horodatage FROM journal WHERE seq = ?",
                                 (seq,)).fetchone()
    if not rows:
        scope = f" pour le référentiel {referentiel}" if referentiel else ""
        raise BilanError(f"{ws.registre_path} : aucun passage enregistré pour les sessions de "
                         f"{annee}{scope} ; rien à analyser")
    notes: list[str] = []
    codes = sorted({r["referentiel"] for r in rows})
    refs = {code: _referentiel(ws, code, notes) for code in codes}
    owner = {(code, k.code): b.code for code, ref in refs.items() if ref
             for b in ref.blocs for k in b.criteres}
    evaluations: list[tuple[Any, ...]] = []
    blocs: list[tuple[Any, ...]] = []
    signatures: list[tuple[int, str]] = []
    hors_jury: set[str] = set()
    unreadable = 0
    for r in rows:
        try:
            preuves = json.loads(r.pop("preuves") or "{}")
            detail = json.loads(r.pop("detail") or "{}")
        except ValueError:
            unreadable += 1
            continue
        pid, key, code = r["passage_id"], r["session_cle"], r["referentiel"]
        for critere, value in (preuves.get("evaluations") or {}).items():
            if value is not None:
                evaluations.append((pid, key, code, owner.get((code, critere), "?"), critere,
                                    bool(value)))
        for bloc, b in (detail.get("blocs") or {}).items():
            blocs.append((pid, key, code, bloc, int(b.get("acquis", 0)),
                          int(b.get("total", 0)), bool(b.get("valide")),
                          bool(b.get("capitalise"))))
        jures = preuves.get("jures")
        if isinstance(jures, dict) and jures.get("source") == SOURCE_VISA:
            signatures.extend((pid, str(n)) for n in jures.get("noms") or [])
            hors_jury.update(str(n) for n in jures.get("hors_jury") or [])
    if unreadable:
        raise RegistreError(f"{ws.registre_path} : {unreadable} passage(s) illisible(s) ; "
                            "lancez « certidocs registre controler »")
    passages = pd.DataFrame(rows)
    passages["rattrapage"] = passages["rattrapage"].astype(bool)
    unknown = sorted({e[4] for e in evaluations if e[3] == "?"})
    if unknown:
        notes.append(f"{len(unknown)} critère(s) évalué(s) absent(s) du référentiel actuel "
                     f"(par exemple {unknown[0]}) : comptés sous le bloc « ? »")
    if hors_jury:
        names = sorted(hors_jury)
        notes.append(f"{len(names)} nom(s) de visa absent(s) des feuilles « Jury » (par exemple "
                     f"« {names[0]} ») : comptés tels qu'écrits, comme des jurés à part")
    jury, dysf = _dossiers(ws, sessions, notes)
    return Donnees(
        annee=annee, referentiel=referentiel, passages=passages,
        evaluations=pd.DataFrame(evaluations, columns=["passage_id", "session_cle",
                                                       "referentiel", "bloc", "critere",
                                                       "acquis"]),
        blocs=pd.DataFrame(blocs, columns=["passage_id", "session_cle", "referentiel", "bloc",
                                           "acquis", "total", "valide", "capitalise"]),
        sessions=pd.DataFrame(sessions), recours=pd.DataFrame(
            recours, columns=["session", "numero", "date_reception", "motifs", "decision",
                              "motif_decision", "date_decision", "revision"]),
        revisions=pd.DataFrame(revisions, columns=["session", "numero", "ancienne_decision",
                                                   "nouvelle_decision", "motif",
                                                   "date_revision"]),
        jury=jury, dysfonctionnements=dysf, referentiels=refs,
        signatures=pd.DataFrame(signatures, columns=["passage_id", "jure"]),
        journal=(seq, stamp[0] if stamp else ""), notes=notes)


def _referentiel(ws: Workspace, code: str, notes: list[str]) -> Referentiel | None:
    from certidocs.referentiel import load_referentiel

    try:
        return load_referentiel(ws.find_referentiel(code))
    except CertidocsError as exc:
        notes.append(f"référentiel {code} illisible ou introuvable ({exc}) : critères sans "
                     "bloc ni libellé")
        return None


def _feuilles(folder: Path) -> tuple[list[Any], list[Any]] | None:
    """The Jury and Dysfonctionnements sheets of ``folder/session.xlsx`` (Jure and
    Dysfonctionnement records), None when the file is missing or unreadable.

    Only these two sheets are parsed, with the session reader's own column matching and
    typing (``session.reader``): opening the whole workbook, candidates and planning
    included, costs three times as much, and a year holds dozens of sessions.
    """
    from certidocs.errors import CertidocsError
    from certidocs.model import Dysfonctionnement, Jure
    from certidocs.session.creator import FILENAME
    from certidocs.session.layout import DYSFONCTIONNEMENTS, JURY
    from certidocs.session.reader import read_sheets

    if not (folder / FILENAME).is_file():
        return None
    try:
        tables = read_sheets(folder, (JURY, DYSFONCTIONNEMENTS))
        jury: list[Any] = [Jure(**r) for r in tables[JURY.nom]]
        dysfonctionnements: list[Any] = [Dysfonctionnement(**r)
                                         for r in tables[DYSFONCTIONNEMENTS.nom]]
    except (CertidocsError, OSError, TypeError, ValueError):
        return None  # a damaged file is the file's fault: noted, not fatal to the review
    return jury, dysfonctionnements


def _dossiers(ws: Workspace, sessions: list[dict[str, Any]], notes: list[str]
              ) -> tuple[Any, Any]:
    """The jury and dysfunctions of each session's session.xlsx (its folder is the
    session's key, relative to the workspace); a missing or unreadable one is noted. Read
    one after the other: a process pool costs more to start than forty small reads."""
    import pandas as pd

    from certidocs.grid.reader import nom_jure

    folders = []
    for s in sessions:
        folder = Path(s["session_cle"])
        folders.append(folder if folder.is_absolute() else ws.root / folder)
    read = [_feuilles(f) for f in folders]
    jury: list[tuple[str, str, str]] = []
    dysf: list[tuple[Any, ...]] = []
    missing: list[str] = []
    for s, got in zip(sessions, read, strict=True):
        if got is None:
            missing.append(s["session"])
            continue
        for j in got[0]:
            name = nom_jure(j)
            if name:
                jury.append((s["session_cle"], name, j.college))
        for d in got[1]:
            dysf.append((s["session"], d.date, d.description, d.action_corrective,
                         d.responsable))
    if missing:
        notes.append(f"session.xlsx absent ou illisible pour {len(missing)} session(s) "
                     f"({', '.join(missing[:5])}{'…' if len(missing) > 5 else ''}) : leur jury "
                     "et leurs dysfonctionnements manquent au bilan")
    return (pd.DataFrame(jury, columns=["session_cle", "jure", "college"]),
            pd.DataFrame(dysf, columns=["session", "date", "description", "action_corrective",
                                        "responsable"]))
