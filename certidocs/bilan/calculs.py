"""The tables of the annual review, computed with pandas and scipy from ``donnees.Donnees``.

Each function returns one pandas DataFrame whose columns are the French headings of the
workbook sheet of the same name: the Word report prints rows of these very tables, so that
every figure it shows can be found in the workbook. Rates are fractions (0.725), intervals
are 95 % Wilson intervals (``scipy.stats.binomtest(...).proportion_ci(method="wilson")``) or,
for the jury comparison, t intervals of a mean (``scipy.stats.ttest_1samp``).
"""

from __future__ import annotations

import math
from typing import Any

from certidocs.bilan.donnees import Donnees

NIVEAU = 0.95
"""Confidence level of every interval."""

SEUIL_HAUT = 0.90
"""A criterion acquired by at least this share of candidates is flagged « presque toujours
acquis »…"""

SEUIL_BAS = 0.10
"""…and one acquired by at most this share « presque jamais acquis »: both are candidates for
rewording."""

MIN_EVALUATIONS_SIGNAL = 20
"""Below this many evaluations a criterion is not flagged: the rate is too uncertain."""

MIN_CANDIDATS_JURY = 10
"""A jury (or a juror) is compared with the others only on at least this many candidates:
below, the review says « trop peu de candidats » and ranks nobody."""

DECISIONS = ("Certifié", "Validation partielle", "Non certifié", "Absent")

SEUIL_DEFAUT = 0.70


def wilson(succes: int, total: int) -> tuple[float, float]:
    """The 95 % Wilson interval of ``succes`` out of ``total`` (NaN, NaN when total is 0)."""
    from scipy.stats import binomtest

    if total <= 0:
        return math.nan, math.nan
    ci = binomtest(int(succes), int(total)).proportion_ci(confidence_level=NIVEAU,
                                                           method="wilson")
    return float(ci.low), float(ci.high)


def _taux(frame: Any, succes: str, total: str, prefix: str = "") -> Any:
    """Add « Taux », « IC 95 % bas », « IC 95 % haut » columns from two count columns."""
    rates, lows, highs = [], [], []
    for k, n in zip(frame[succes], frame[total], strict=True):
        rates.append(k / n if n else math.nan)
        low, high = wilson(int(k), int(n))
        lows.append(low)
        highs.append(high)
    frame[f"{prefix}Taux"] = rates
    frame["IC 95 % bas"] = lows
    frame["IC 95 % haut"] = highs
    return frame


def _jours(debut: Any, fin: Any) -> float:
    import pandas as pd

    if debut is None or fin is None or pd.isna(debut) or pd.isna(fin):
        return math.nan
    days = (pd.Timestamp(str(fin)[:10]) - pd.Timestamp(str(debut)[:10])).days
    # A seal or a flux dated before the session's last day (a register made up for a
    # demonstration, a clock set wrong) is no delay: left out rather than shown negative.
    return float(days) if days >= 0 else math.nan


def table_sessions(d: Donnees) -> Any:
    """Per certification and session: candidates by decision, retakes and their outcome,
    certification rate among those present, days from the session's last day to the first
    seal (deliberation) and to the first CDC declaration of one of its certificates."""
    import pandas as pd

    p = d.passages
    counts = pd.crosstab(p["session_cle"], p["decision"]).reindex(columns=DECISIONS,
                                                                  fill_value=0)
    retakes = p[p["rattrapage"]]
    rows = []
    for s in d.sessions.itertuples(index=False):
        c = counts.loc[s.session_cle] if s.session_cle in counts.index else None
        got = {k: int(c[k]) if c is not None else 0 for k in DECISIONS}
        present = got["Certifié"] + got["Validation partielle"] + got["Non certifié"]
        mine = retakes[retakes["session_cle"] == s.session_cle]
        rows.append({
            "Certification": s.referentiel, "Session": s.session,
            "Début": _date(s.date_debut), "Fin": _date(s.date_fin), "Lieu": s.lieu or "",
            "Inscrits": sum(got.values()), "Présents": present,
            "Certifiés": got["Certifié"], "Validations partielles": got["Validation partielle"],
            "Non certifiés": got["Non certifié"], "Absents": got["Absent"],
            "Rattrapages": len(mine),
            "Rattrapages certifiés": int((mine["decision"] == "Certifié").sum()),
            "Taux de certification": got["Certifié"] / present if present else math.nan,
            "Jours jusqu'à la délibération": _jours(s.date_fin, s.deliberation),
            "Jours jusqu'à la déclaration CDC": _jours(s.date_fin, s.declaration),
        })
    return pd.DataFrame(rows)


def table_certifications(sessions: Any) -> Any:
    """The sessions table summed per certification (delays: medians over its sessions)."""
    counted = ["Inscrits", "Présents", "Certifiés", "Validations partielles", "Non certifiés",
               "Absents", "Rattrapages", "Rattrapages certifiés"]
    g = sessions.groupby("Certification", sort=True)
    out = g[counted].sum()
    out.insert(0, "Sessions", g.size())
    out["Taux de certification"] = out["Certifiés"] / out["Présents"].where(
        out["Présents"] > 0)
    out["Jours jusqu'à la délibération (médiane)"] = g["Jours jusqu'à la délibération"].median()
    out["Jours jusqu'à la déclaration CDC (médiane)"] = \
        g["Jours jusqu'à la déclaration CDC"].median()
    return out.reset_index()


def table_blocs(d: Donnees) -> Any:
    """Per certification and bloc: blocs evaluated in the year (capitalised ones left out),
    validated, rate with its Wilson interval."""
    b = d.blocs[~d.blocs["capitalise"]]
    g = b.groupby(["referentiel", "bloc"], sort=True)
    out = g.agg(n=("valide", "size"), k=("valide", "sum")).reset_index()
    out = out.rename(columns={"referentiel": "Certification", "bloc": "Bloc",
                              "n": "Évalués", "k": "Validés"})
    out.insert(2, "Intitulé", [_intitule(d, r, c) for r, c in
                               zip(out["Certification"], out["Bloc"], strict=True)])
    return _taux(out, "Validés", "Évalués", "")


def _intitule(d: Donnees, code: str, bloc: str) -> str:
    ref = d.referentiels.get(code)
    if ref is None:
        return ""
    for b in ref.blocs:
        if b.code == bloc:
            return b.intitule
    return ""


def _libelle(d: Donnees, code: str, critere: str) -> str:
    ref = d.referentiels.get(code)
    if ref is None:
        return ""
    for k in ref.criteres:
        if k.code == critere:
            return k.libelle
    return ""


def _seuil(d: Donnees, code: str) -> float:
    ref = d.referentiels.get(code)
    return ref.regles.seuil_bloc if ref is not None else SEUIL_DEFAUT


def table_criteres(d: Donnees) -> Any:
    """Per criterion: evaluations, « Acquis », rate and Wilson interval; agreement with the
    bloc decision (share of candidates whose criterion and bloc agree), discrimination (rate
    among validated blocs minus rate among failed ones), how many candidates it was
    decisive for (one mark the other way would have changed the bloc decision) and a flag
    when it is almost always or almost never acquired."""
    import numpy as np

    e = d.evaluations.merge(d.blocs[["passage_id", "bloc", "acquis", "total", "valide"]]
                            .rename(columns={"acquis": "bloc_acquis"}),
                            on=["passage_id", "bloc"], how="left")
    seuils = {code: round(_seuil(d, code) * 100) for code in e["referentiel"].unique()}
    pct = e["referentiel"].map(seuils)
    has_bloc = e["total"].notna()
    e["concorde"] = (e["acquis"] == e["valide"]).where(has_bloc)
    # integer comparison, as the rules decide: acquis * 100 >= seuil * total
    drop = e["acquis"] & ((e["bloc_acquis"] - 1) * 100 < pct * e["total"]) & e["valide"].eq(True)
    lift = ~e["acquis"] & ((e["bloc_acquis"] + 1) * 100 >= pct * e["total"]) \
        & e["valide"].eq(False)
    e["decisif"] = (drop | lift) & has_bloc
    e["acq_valide"] = e["acquis"].where(e["valide"].eq(True))
    e["acq_echec"] = e["acquis"].where(e["valide"].eq(False))
    g = e.groupby(["referentiel", "bloc", "critere"], sort=True)
    out = g.agg(n=("acquis", "size"), k=("acquis", "sum"), concorde=("concorde", "mean"),
                av=("acq_valide", "mean"), ae=("acq_echec", "mean"),
                decisif=("decisif", "sum")).reset_index()
    out["k"] = out["k"].astype(int)
    out["decisif"] = out["decisif"].astype(int)
    out = out.rename(columns={"referentiel": "Certification", "bloc": "Bloc",
                              "critere": "Critère", "n": "Évaluations", "k": "Acquis"})
    out.insert(3, "Libellé", [_libelle(d, r, c) for r, c in
                              zip(out["Certification"], out["Critère"], strict=True)])
    out = _taux(out, "Acquis", "Évaluations", "")
    out["Concordance avec le bloc"] = out.pop("concorde").astype(float)
    out["Écart validés − non validés"] = (out.pop("av") - out.pop("ae")).astype(float)
    out["Candidats pour qui il a été décisif"] = out.pop("decisif")
    out["Signal"] = [_signal(n, t) for n, t in zip(out["Évaluations"], out["Taux"],
                                                   strict=True)]
    return out.replace({np.nan: math.nan})


def _signal(n: int, taux: float) -> str:
    if n < MIN_EVALUATIONS_SIGNAL:
        return ""
    if taux >= SEUIL_HAUT:
        return "presque toujours acquis"
    if taux <= SEUIL_BAS:
        return "presque jamais acquis"
    return ""


def _ecarts_candidats(d: Donnees) -> Any:
    """One row per candidate evaluated: their session and the gap between their « Acquis »
    rate and the rate the same criteria had in the other sessions of the year (the
    expectation for a comparable candidate, marked by another jury)."""
    e = d.evaluations
    if e.empty:
        import pandas as pd

        return pd.DataFrame(columns=["passage_id", "session_cle", "ecart"])
    tot = e.groupby(["referentiel", "critere"])["acquis"].agg(["sum", "size"])
    per = e.groupby(["session_cle", "referentiel", "critere"])["acquis"].agg(["sum", "size"])
    per = per.join(tot.add_suffix("_tot"))
    others = per["size_tot"] - per["size"]
    per["attendu"] = ((per["sum_tot"] - per["sum"]) / others).where(others > 0)
    e = e.join(per["attendu"], on=["session_cle", "referentiel", "critere"])
    e = e[e["attendu"].notna()]
    cand = e.groupby(["passage_id", "session_cle"]).agg(obs=("acquis", "mean"),
                                                        att=("attendu", "mean")).reset_index()
    cand["ecart"] = cand["obs"] - cand["att"]
    return cand


def _comparer(ecarts: Any) -> tuple[int, float, float, float, str]:
    """n, mean gap, its 95 % t interval and the plain reading, for a set of candidates."""
    from scipy.stats import ttest_1samp

    n = len(ecarts)
    if n == 0:
        return 0, math.nan, math.nan, math.nan, "aucun candidat comparable"
    mean = float(ecarts.mean())
    if n < MIN_CANDIDATS_JURY:
        return (n, mean, math.nan, math.nan,
                f"non classé : {n} candidat(s), trop peu pour conclure "
                f"(au moins {MIN_CANDIDATS_JURY})")
    if float(ecarts.std()) == 0.0:
        low = high = mean
    else:
        ci = ttest_1samp(ecarts, 0.0).confidence_interval(NIVEAU)
        low, high = float(ci.low), float(ci.high)
    if high < 0:
        reading = "plus sévère que les autres jurys (écart établi)"
    elif low > 0:
        reading = "plus favorable que les autres jurys (écart établi)"
    else:
        reading = "pas d'écart établi avec les autres jurys"
    return n, mean, low, high, reading


def table_jurys(d: Donnees, cand: Any = None) -> Any:
    """Per session (one jury composition): candidates compared, observed and expected rates
    of « Acquis » (expected: the same criteria in the other sessions), the gap and its
    interval, and the reading (no ranking under ``MIN_CANDIDATS_JURY`` candidates).
    ``cand``: ``_ecarts_candidats(d)`` when already computed."""
    import pandas as pd

    cand = _ecarts_candidats(d) if cand is None else cand
    names = d.jury.groupby("session_cle")["jure"].apply(lambda s: ", ".join(s))
    rows = []
    for s in d.sessions.itertuples(index=False):
        mine = cand[cand["session_cle"] == s.session_cle]
        n, mean, low, high, reading = _comparer(mine["ecart"])
        rows.append({"Certification": s.referentiel, "Session": s.session,
                     "Jury (session.xlsx)": names.get(s.session_cle, "inconnu"),
                     "Candidats comparés": n,
                     "Taux d'acquis observé": float(mine["obs"].mean()) if n else math.nan,
                     "Taux attendu (autres sessions)": float(mine["att"].mean()) if n
                     else math.nan,
                     "Écart": mean, "IC 95 % bas": low, "IC 95 % haut": high,
                     "Lecture": reading})
    return pd.DataFrame(rows)


def table_jures(d: Donnees, cand: Any = None) -> Any:
    """Per juror (named in the Jury sheet of the sessions they sat in): the candidates of
    those sessions pooled, with the same gap, interval and reading as ``table_jurys``. A
    juror is never credited with a grid: the register does not say who filled which."""
    import pandas as pd

    cand = _ecarts_candidats(d) if cand is None else cand
    rows = []
    for jure, group in d.jury.groupby("jure", sort=True):
        keys = set(group["session_cle"])
        mine = cand[cand["session_cle"].isin(keys)]
        n, mean, low, high, reading = _comparer(mine["ecart"])
        rows.append({"Juré": jure, "Collège": ", ".join(sorted(set(group["college"]) - {""})),
                     "Sessions": len(keys), "Candidats comparés": n, "Écart": mean,
                     "IC 95 % bas": low, "IC 95 % haut": high, "Lecture": reading})
    return pd.DataFrame(rows, columns=["Juré", "Collège", "Sessions", "Candidats comparés",
                                       "Écart", "IC 95 % bas", "IC 95 % haut", "Lecture"])


def _par(d: Donnees, column: str, label: str) -> Any:
    p = d.passages[d.passages["decision"] != "Absent"].copy()
    p[column] = p[column].fillna("").replace("", "non renseigné")
    g = p.groupby(["referentiel", column], sort=True)
    out = g.agg(n=("decision", "size"),
                k=("decision", lambda s: int((s == "Certifié").sum())),
                partiel=("decision", lambda s: int((s == "Validation partielle").sum())),
                sessions=("session_cle", "nunique")).reset_index()
    out = out.rename(columns={"referentiel": "Certification", column: label, "n": "Présents",
                              "k": "Certifiés", "partiel": "Validations partielles",
                              "sessions": "Sessions"})
    return _taux(out, "Certifiés", "Présents", "")


def table_voies(d: Donnees) -> Any:
    """Per certification and access route: candidates present, certified, partial, rate
    certified with its Wilson interval."""
    return _par(d, "voie_acces", "Voie d'accès")


def table_centres(d: Donnees) -> Any:
    """Per certification and centre (the session's place): same figures as ``table_voies``."""
    return _par(d, "lieu", "Centre")


def _date(value: Any) -> Any:
    import datetime as dt

    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def table_recours(d: Donnees) -> Any:
    """The appeals of the year with their decision and the revision they led to."""
    r = d.recours.copy()
    for col in ("date_reception", "date_decision"):
        r[col] = [_date(v) for v in r[col]]
    return r.rename(columns={"session": "Session", "numero": "N° candidat",
                             "date_reception": "Reçu le", "motifs": "Motifs",
                             "decision": "Décision", "motif_decision": "Motif de la décision",
                             "date_decision": "Décidé le", "revision": "Révision qui a suivi"})


def table_revisions(d: Donnees) -> Any:
    """The revisions of sealed decisions of the year."""
    r = d.revisions.copy()
    r["date_revision"] = [_date(v) for v in r["date_revision"]]
    return r.rename(columns={"session": "Session", "numero": "N° candidat",
                             "ancienne_decision": "Décision scellée",
                             "nouvelle_decision": "Décision révisée", "motif": "Motif",
                             "date_revision": "Date"})


def table_dysfonctionnements(d: Donnees) -> Any:
    """The dysfunctions logged in the sessions' session.xlsx, with their corrective action."""
    return d.dysfonctionnements.rename(columns={
        "session": "Session", "date": "Date", "description": "Description",
        "action_corrective": "Action corrective", "responsable": "Responsable"})


def toutes(d: Donnees) -> dict[str, Any]:
    """Every table, by workbook sheet name, in the order of the report."""
    sessions = table_sessions(d)
    cand = _ecarts_candidats(d)
    return {
        "Certifications": table_certifications(sessions),
        "Sessions": sessions,
        "Blocs": table_blocs(d),
        "Critères": table_criteres(d),
        "Jurys": table_jurys(d, cand),
        "Jurés": table_jures(d, cand),
        "Voies d'accès": table_voies(d),
        "Centres": table_centres(d),
        "Recours": table_recours(d),
        "Révisions": table_revisions(d),
        "Dysfonctionnements": table_dysfonctionnements(d),
    }
