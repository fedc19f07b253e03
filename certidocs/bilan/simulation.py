"""A made-up year of sessions, for the tests and the benchmark of the annual review.

``simuler_annee`` writes into a new workspace a register holding ``sessions`` sessions of
``annee`` (two certifications, three centres, three access routes) with the evidence of every
decision, seals, certificates, a CDC flux, appeals, and for each session a session.xlsx with
its jury and dysfunctions, all through the register's own journaled writes. What the data
hide, so that a review can be checked to find it:

- in each bloc, one criterion almost everyone passes (``FACILE``) and one almost nobody
  passes (``DIFFICILE``);
- the juror ``SEVERE`` gives markedly fewer « Acquis » on the grids he signs: he sits in one
  session out of four (in every centre), always split into two sub-juries, so that he signs
  about half of their grids, with a partner who rotates among the other professionals;
- the juror ``RARE`` signs only ``RARE_GRILLES`` grids of one session, harsher still: too
  few to be ranked;
- the juror ``UN_CENTRE`` only ever sits in Marseille;
- one grid's visa carries a misspelled name (``HORS_JURY``), not in the Jury sheet;
- the VAE route succeeds less often than the others.

Each grid's visa (``preuves["jures"]``) names the sub-jury that evaluated it; with
``visas=False`` no passage carries one, as in a register written before the visa was read.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, replace
from pathlib import Path

from certidocs.model import Candidat

JURES = [("Anne", "ROUX", "Représentant du certificateur"),
         ("Paul", "DURAND", "Professionnel"), ("Inès", "LEROY", "Professionnel"),
         ("Hugo", "MARCHAND", "Professionnel"), ("Léa", "FABRE", "Professionnel"),
         ("Marc", "GIRAUD", "Représentant du certificateur"),
         ("Sofia", "BRUN", "Professionnel"), ("Yann", "PERRIN", "Professionnel")]
SEVERE = "Hugo MARCHAND"
RARE_JURE = ("Nadia", "KERBAL", "Professionnel")
RARE = "Nadia KERBAL"
RARE_SESSION = 6
"""The session (its index) where ``RARE`` signs a few grids."""
RARE_GRILLES = 8
UN_CENTRE = "Yann PERRIN"
HORS_JURY = "Durnad Paul"
EFFET_SEVERE = 0.15
"""How much lower the severe juror's « Acquis » probability is, per non-extreme criterion."""
EFFET_RARE = 0.25
CENTRES = [("Lyon", "69002"), ("Paris", "75011"), ("Marseille", "13001")]
VOIES = [("Formation", 0.7), ("VAE", 0.2), ("Parcours mixte", 0.1)]
CERTIFICATIONS = ("CPECOM", "MKT-ECOM")


@dataclass(frozen=True)
class Simulation:
    """The workspace written and what it hides: the easy and hard criteria per certification
    (their codes), the severe juror, the juror under the minimum of grids, the juror of one
    centre, and the count of passages and sessions."""

    espace: Path
    faciles: dict[str, list[str]]
    difficiles: dict[str, list[str]]
    severe: str
    passages: int
    sessions: int
    rare: str = RARE
    un_centre: str = UN_CENTRE


def _nom(jure: tuple[str, str, str]) -> str:
    """« Hugo MARCHAND », as the grid reader names a juror (``grid.reader.nom_jure``)."""
    return f"{jure[0]} {jure[1]}"


def _sous_jurys(s: int, rng: random.Random) -> list[list[tuple[str, str, str]]]:
    """The sub-juries of session ``s``: two when the severe juror sits (one session in
    four) and in every other even session, else one jury of three. The certifier's
    representative alternates; the juror of one centre sits in every Marseille session."""
    severe = next(j for j in JURES if _nom(j) == SEVERE)
    seul = next(j for j in JURES if _nom(j) == UN_CENTRE)
    rep = JURES[0] if s % 2 else JURES[5]
    pros = [j for j in JURES if j[2] == "Professionnel" and j not in (severe, seul)]
    a, b, c = rng.sample(pros, 3)
    if CENTRES[s % len(CENTRES)][0] == "Marseille":
        c = seul
    if s % 4 == 1:
        # his partner rotates, so that no colleague signs all his grids
        partner = pros[(s // 4) % len(pros)]
        return [[severe, partner], [rep, c if c != partner else a]]
    if s % 2 == 0:
        return [[rep, a], [b, c]]
    return [[rep, a, c]]


def simuler_annee(dossier: Path, *, annee: int = 2026, sessions: int = 12,
                  candidats: int = 30, graine: int = 2026, visas: bool = True) -> Simulation:
    """Write a workspace in ``dossier`` with ``sessions`` sessions of ``candidats`` candidates
    each (the last sessions bring back some who failed earlier: retakes); with ``visas``
    each passage's evidence names the sub-jury that signed its grid."""
    from certidocs import rules
    from certidocs.referentiel import load_referentiel
    from certidocs.registre import Registre
    from certidocs.resultats import resultat_json
    from certidocs.session.creator import create_session
    from certidocs.session.filler import fill_session
    from certidocs.workspace import init_workspace

    rng = random.Random(graine)
    ws = init_workspace(dossier)
    refs = {code: load_referentiel(ws.find_referentiel(code)) for code in CERTIFICATIONS}
    faciles: dict[str, list[str]] = {}
    difficiles: dict[str, list[str]] = {}
    base: dict[str, float] = {}
    for code, ref in refs.items():
        faciles[code], difficiles[code] = [], []
        for bloc in ref.blocs:
            ks = [k.code for k in bloc.criteres]
            faciles[code].append(ks[0])
            difficiles[code].append(ks[-1])
            for key in ks:
                base[key] = 0.78
            base[ks[0]], base[ks[-1]] = 0.995, 0.04
    failed: list[tuple[Candidat, str]] = []
    total = 0
    with Registre(ws.registre_path) as reg:
        for s in range(sessions):
            code = CERTIFICATIONS[0] if s % 4 else CERTIFICATIONS[1]
            ref = refs[code]
            lieu, cp = CENTRES[s % len(CENTRES)]
            debut = dt.date(annee, 1, 8) + dt.timedelta(days=(s * 350) // max(1, sessions))
            fin = debut + dt.timedelta(days=1)
            name = f"{debut.isoformat()}-{code.lower()}"
            folder = ws.sessions_dir / name
            create_session(folder, ref)
            groupes = _sous_jurys(s, rng)
            rare = s == RARE_SESSION
            jury = [j for g in groupes for j in g] + ([RARE_JURE] if rare else [])
            info = {"Référentiel (code)": code, "Date de début": debut, "Date de fin": fin,
                    "Lieu": lieu}
            fill_session(folder / "session.xlsx", info, {
                "Jury": [{"Nom": n.title(), "Prénom": p, "Collège": c} for p, n, c in jury],
                "Dysfonctionnements": [{"Date": debut, "Description": f"Retard de "
                                        f"{10 + s} minutes du début de l'épreuve",
                                        "Action corrective": "Temps rendu aux candidats",
                                        "Responsable": "Claire Martin"}] if s % 5 == 0 else [],
            })
            people: list[tuple[Candidat, bool]] = []
            for i in range(candidats):
                retake = [f for f in failed if f[1] == code]
                if retake and rng.random() < 0.08:
                    who = retake[0][0]
                    failed.remove(retake[0])
                    people.append((replace(who, numero=f"{s + 1:02d}-{i + 1:03d}"), True))
                    continue
                voie = rng.choices([v for v, _ in VOIES], [w for _, w in VOIES])[0]
                people.append((Candidat(
                    numero=f"{s + 1:02d}-{i + 1:03d}", civilite="Madame",
                    nom_naissance=f"Nom{s:02d}x{i:03d}", prenom="Camille",
                    date_naissance=dt.date(1990, 1, 1) + dt.timedelta(days=s * 400 + i),
                    voie_acces=voie, presence="Présent"), False))
            with reg.transaction("résultats enregistrés", f"simulation {name}") as conn:
                sid = reg.session_id(conn, f"sessions/{name}", name, code, debut, fin, lieu)
                reg.completer_session(conn, cle=f"sessions/{name}", code_postal_examen=cp)
                certified = []
                signes: list[list[str]] = []
                for c, is_retake in people:
                    absent = rng.random() < 0.04
                    history = reg.historique(c.nom_naissance, c.prenom, c.date_naissance, code,
                                             avant_session=f"sessions/{name}")
                    index = len(signes)
                    groupe = [_nom(j) for j in groupes[index % len(groupes)]]
                    if rare and index < RARE_GRILLES:
                        groupe = [_nom(JURES[0] if s % 2 else JURES[5]), RARE]
                    if s == 1 and index == 0:
                        groupe = [*groupe, HORS_JURY]
                    signes.append(groupe)
                    skill = rng.gauss(0, 0.08) - (0.12 if c.voie_acces == "VAE" else 0.0) \
                        - (EFFET_SEVERE if SEVERE in groupe else 0.0) \
                        - (EFFET_RARE if RARE in groupe else 0.0)
                    evaluations: dict[str, bool | None] = {}
                    if not absent:
                        for bloc in ref.blocs:
                            if bloc.code in history.blocs_capitalises and \
                                    ref.regles.mode_decision == "blocs":
                                continue
                            for k in bloc.criteres:
                                p = min(0.999, max(0.001, base[k.code] + (
                                    skill if 0.05 < base[k.code] < 0.99 else 0.0)))
                                evaluations[k.code] = rng.random() < p
                    # a retake presents only the blocs it has not capitalised, as its grid
                    presented = tuple(b.code for b in ref.blocs if b.code not in
                                      history.blocs_capitalises) \
                        if ref.regles.mode_decision == "blocs" else ()
                    sat = replace(c, presence="Absent" if absent else "Présent",
                                  blocs_presentes=presented)
                    r = rules.resultat_candidat(ref, sat, evaluations if not absent else None,
                                                history.blocs_capitalises)
                    reg.enregistrer_passage(
                        conn, session_id=sid, nom_naissance=c.nom_naissance, prenom=c.prenom,
                        date_naissance=c.date_naissance, numero=c.numero, referentiel=code,
                        date_session=debut, voie_acces=c.voie_acces, decision=r.decision,
                        detail=resultat_json(r),
                        blocs_valides=[b.code for b in r.blocs if b.valide and not
                                       b.capitalise] if not absent else [],
                        identite={}, preuves={"evaluations": dict(sorted(
                            evaluations.items())), "grille": None, "anomalies": [],
                            **({"jures": {"noms": groupe, "source": "visa",
                                          "date": debut.isoformat(),
                                          "hors_jury": [n for n in groupe if n == HORS_JURY]}}
                               if visas and not absent else {})})
                    total += 1
                    if r.decision in ("Non certifié", "Validation partielle") and not is_retake:
                        failed.append((c, code))
                    if r.decision == "Certifié":
                        certified.append(c)
                sealed = fin + dt.timedelta(days=3 + s % 9)
                conn.execute(
                    "INSERT INTO scellements (session_id, version, date_deliberation, "
                    "scelle_le, empreinte, nombre, motif) VALUES (?, 1, ?, ?, ?, ?, '')",
                    (sid, sealed.isoformat(), f"{sealed.isoformat()}T17:00:00", "0" * 64,
                     len(people)))
                ids = []
                for c in certified:
                    reg.certificat(conn, session_id=sid, nom_naissance=c.nom_naissance,
                                   prenom=c.prenom, date_naissance=c.date_naissance,
                                   referentiel=code, date_delivrance=sealed)
                    ids.append(conn.execute(
                        "SELECT k.id FROM certificats k JOIN candidats c ON c.id = "
                        "k.candidat_id WHERE k.session_id = ? AND c.nom_naissance = ? AND "
                        "c.date_naissance = ?", (sid, c.nom_naissance,
                                                 c.date_naissance.isoformat() if
                                                 c.date_naissance else None)).fetchone()[0])
                if ids and s % 2 == 0:
                    reg.enregistrer_flux(conn, id_flux=f"FLUX-{name}", fichier=f"{name}.xml",
                                         empreinte=f"{s:064d}", cree_le=dt.datetime.combine(
                                             sealed + dt.timedelta(days=20 + s % 15),
                                             dt.time(9)),
                                         passages=[(k, f"{name}-{j}") for j, k in
                                                   enumerate(ids)])
                if s % 4 == 1 and people:
                    c = people[0][0]
                    reg.enregistrer_recours(
                        conn, session_id=sid, numero=c.numero,
                        candidat=(c.nom_naissance, c.prenom, c.date_naissance),
                        date_reception=sealed + dt.timedelta(days=5), motifs="Conteste la "
                        "note de la mise en situation", decision="Non recevable"
                        if s % 8 == 1 else "Recevable", motif_decision="Appréciation du "
                        "jury, souveraine" if s % 8 == 1 else "Sujet remis en retard",
                        date_decision=sealed + dt.timedelta(days=9))
    return Simulation(ws.root, faciles, difficiles, SEVERE, total, sessions)
