"""The tables of the annual review, computed with pandas and scipy from ``donnees.Donnees``.

Each function returns one pandas DataFrame whose columns are the French headings of the
workbook sheet of the same name: the Word report prints rows of these very tables, so that
every figure it shows can be found in the workbook. Rates are fractions (0.725), intervals
are 95 % Wilson intervals (``scipy.stats.binomtest(...).proportion_ci(method="wilson")``) or,
for the comparison of session juries, t intervals of a mean (``scipy.stats.ttest_1samp``).

Jurors are compared two ways, and each table says which: **by grid** (``table_jures``) when
the register knows who signed each grid (the visa, ``donnees.Donnees.signatures``), each
juror's rate on the grids they signed against the median juror of the same certification;
**by session**
(``table_jurys``, ``table_jures_sessions``) otherwise, a jury composition against the other
sessions, which cannot tell apart jurors who always sit together, nor a jury from its centre.
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

MIN_GRILLES_JURE = 20
"""A juror compared by grid is ranked only on at least this many grids signed: below, the
review gives the figures but says « non classé » (issue 20: « no juror is ranked on five
candidates »; twenty grids keep a Wilson interval of the juror's rate under ± 5 points for
a référentiel of 14 criteria or more)."""

ECART_NOTABLE = 0.05
"""A juror is said markedly harsher or more lenient only when their rate differs from the
other jurors' by at least this much (5 percentage points) and the two Wilson intervals do
not overlap: a Wilson interval counts each evaluation as independent, which the criteria of
one candidate are not quite, so a disjoint interval alone would flag too easily."""

MIN_AUTRES_JURES = 2
"""A juror compared by grid is read against at least this many other ranked jurors of the
same certification: with one, the « reference » would be that one colleague."""

METHODE_GRILLES = "grilles signées (visa)"
METHODE_SESSIONS = "sessions siégées (feuille Jury)"

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


def _centre_et_jure(centres: list[str]) -> str:
    """The caveat of a juror seen in one centre only: their gap may be the centre's (its
    candidates, its conditions) as much as theirs."""
    if len(centres) != 1:
        return ""
    return f"un seul centre ({centres[0]}) : l'écart peut tenir au centre autant qu'au juré"


def table_jures_sessions(d: Donnees, cand: Any = None) -> Any:
    """Per juror (named in the Jury sheet of the sessions they sat in): the candidates of
    those sessions pooled, with the same gap, interval and reading as ``table_jurys``; the
    centres of those sessions and the caveat when there is only one. A juror is not
    credited with a grid: this is the comparison for years whose grids carry no visa."""
    import pandas as pd

    cand = _ecarts_candidats(d) if cand is None else cand
    lieux = dict(zip(d.sessions["session_cle"], d.sessions["lieu"].fillna(""), strict=True))
    rows = []
    for jure, group in d.jury.groupby("jure", sort=True):
        keys = set(group["session_cle"])
        mine = cand[cand["session_cle"].isin(keys)]
        n, mean, low, high, reading = _comparer(mine["ecart"])
        centres = sorted({lieux.get(k) or "non renseigné" for k in keys})
        rows.append({"Juré": jure, "Collège": ", ".join(sorted(set(group["college"]) - {""})),
                     "Méthode": METHODE_SESSIONS, "Sessions": len(keys),
                     "Centres": ", ".join(centres), "Candidats comparés": n, "Écart": mean,
                     "IC 95 % bas": low, "IC 95 % haut": high, "Lecture": reading,
                     "Centre et juré": _centre_et_jure(centres)})
    return pd.DataFrame(rows, columns=["Juré", "Collège", "Méthode", "Sessions", "Centres",
                                       "Candidats comparés", "Écart", "IC 95 % bas",
                                       "IC 95 % haut", "Lecture", "Centre et juré"])


COLONNES_JURES = ["Certification", "Juré", "Collège", "Méthode", "Sessions", "Centres",
                  "Grilles signées", "Évaluations", "Acquis", "Taux", "IC 95 % bas",
                  "IC 95 % haut", "Autres jurés classés", "Taux de référence", "Écart",
                  "Lecture", "Centre et juré", "Co-signataire le plus fréquent"]


def _lecture_jure(grilles: int, low: float, high: float, reference: float, ecart: float,
                  autres: int) -> str:
    """The plain reading of one juror's comparison (rules: ``MIN_GRILLES_JURE``,
    ``MIN_AUTRES_JURES``, ``ECART_NOTABLE``, the reference outside the juror's Wilson
    interval)."""
    if grilles < MIN_GRILLES_JURE:
        return (f"non classé : {grilles} grille(s), trop peu pour conclure "
                f"(au moins {MIN_GRILLES_JURE})")
    if autres < MIN_AUTRES_JURES:
        return (f"non comparé : {autres} autre(s) juré(s) classé(s) dans cette certification "
                f"(au moins {MIN_AUTRES_JURES})")
    apart = reference < low or reference > high
    if apart and abs(ecart) >= ECART_NOTABLE:
        return ("plus sévère que les autres jurés (écart établi)" if ecart < 0
                else "plus favorable que les autres jurés (écart établi)")
    if apart:
        return (f"écart établi mais faible (moins de {ECART_NOTABLE * 100:.0f} points) : "
                "rien à signaler")
    return "pas d'écart établi avec les autres jurés"


def table_jures(d: Donnees) -> Any:
    """Per certification and juror who signed a grid's visa (``d.signatures``): the
    « Acquis » rate of the grids they signed (evaluations, not candidates) with its Wilson
    interval, against a reference: the median of the rates of the other jurors of the same
    certification who signed at least ``MIN_GRILLES_JURE`` grids (each on their own grids,
    every session of the year, so the same criteria). A median, so that one very harsh (or
    lenient) juror does not move every colleague's reference, as a pooled rate of « the
    other grids » would. The gap, the reading of ``_lecture_jure``, and the colleague who
    co-signed most of their grids (a juror who often sits with a harsh one looks harsher);
    grids without a visa are left out. Empty when no grid of the year has a visa."""
    import statistics

    import pandas as pd

    sig = d.signatures
    if sig.empty or d.evaluations.empty:
        return pd.DataFrame(columns=COLONNES_JURES)
    per = d.evaluations.groupby("passage_id")["acquis"].agg(["sum", "size"])
    grids = d.passages[["passage_id", "session_cle", "referentiel", "lieu"]].join(
        per, on="passage_id", how="inner")
    grids["lieu"] = grids["lieu"].fillna("").replace("", "non renseigné")
    signed = sig.merge(grids, on="passage_id", how="inner")
    colleges = d.jury.groupby("jure")["college"].agg(lambda s: ", ".join(sorted(set(s) - {""})))
    pairs = signed[["passage_id", "referentiel", "jure"]].merge(
        sig.rename(columns={"jure": "avec"}), on="passage_id")
    pairs = pairs[pairs["jure"] != pairs["avec"]]
    together = pairs.groupby(["referentiel", "jure", "avec"]).size()
    rows = []
    for (code, jure), mine in signed.groupby(["referentiel", "jure"], sort=True):
        k, n = int(mine["sum"].sum()), int(mine["size"].sum())
        low, high = wilson(k, n)
        mates = together.get((code, jure)) if (code, jure) in together.index.droplevel(2) \
            else None
        partner = ""
        if mates is not None and len(mates):
            # most shared grids first, then the name: the same register, the same line
            top = sorted(mates.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))[0]
            partner = f"{top[0]} ({int(top[1])} grille(s) sur {len(mine)})"
        rows.append({"Certification": code, "Juré": jure, "Collège": colleges.get(jure, ""),
                     "Méthode": METHODE_GRILLES, "Sessions": mine["session_cle"].nunique(),
                     "Centres": ", ".join(sorted(set(mine["lieu"]))),
                     "Grilles signées": len(mine), "Évaluations": n, "Acquis": k,
                     "Taux": k / n if n else math.nan, "IC 95 % bas": low,
                     "IC 95 % haut": high, "Co-signataire le plus fréquent": partner})
    for row in rows:
        others = [r["Taux"] for r in rows if r["Certification"] == row["Certification"]
                  and r["Juré"] != row["Juré"] and r["Grilles signées"] >= MIN_GRILLES_JURE]
        reference = statistics.median(others) if others else math.nan
        gap = row["Taux"] - reference if others else math.nan
        row.update({"Autres jurés classés": len(others), "Taux de référence": reference,
                    "Écart": gap,
                    "Lecture": _lecture_jure(row["Grilles signées"], row["IC 95 % bas"],
                                             row["IC 95 % haut"], reference, gap,
                                             len(others)),
                    "Centre et juré": _centre_et_jure(row["Centres"].split(", "))})
    return pd.DataFrame(rows, columns=COLONNES_JURES)


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
        "Jurés": table_jures(d),
        "Jurés (sessions)": table_jures_sessions(d, cand),
        "Voies d'accès": table_voies(d),
        "Centres": table_centres(d),
        "Recours": table_recours(d),
        "Révisions": table_revisions(d),
        "Dysfonctionnements": table_dysfonctionnements(d),
    }
