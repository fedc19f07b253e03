"""The Word report of the annual review: the context of templates/bilan.docx, made of the rows
of the workbook's tables formatted for people (« 72,5 % », « 14/01/2027 »)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

from certidocs.bilan import calculs
from certidocs.bilan.donnees import Donnees
from certidocs.bilan.graphiques import Graphique
from certidocs.documents.dates import date_courte, date_texte

LARGEUR_GRAPHIQUE_MM = 235
CLES_GRAPHIQUES = {"decisions_par_session.png": "sessions", "criteres_extremes.png": "criteres",
                   "ecarts_jurys.png": "jurys", "taux_jures.png": "jures",
                   "voies_acces.png": "voies"}


def pct(value: Any, decimals: int = 1) -> str:
    """« 72,5 % », or « – » for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value) * 100:.{decimals}f} %".replace(".", ",")


def points(value: Any) -> str:
    """A gap of rates in percentage points, signed: « −12,3 pts »."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value) * 100:+.1f} pts".replace(".", ",").replace("-", "−")


def intervalle(low: Any, high: Any) -> str:
    """« [65,1 % ; 79,2 %] », or « – »."""
    if low is None or (isinstance(low, float) and math.isnan(low)):
        return "–"
    return f"[{pct(low)} ; {pct(high)}]"


def entier(value: Any) -> str:
    """An integer, or « – » for a missing value (a delay not yet run out)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return str(int(value))


def _jour(value: Any) -> str:
    return date_courte(value) if isinstance(value, dt.date) else ""


METHODE_JURYS = (
    "Chaque session, c'est-à-dire chaque composition de jury (feuille « Jury » de son "
    "session.xlsx), est comparée aux autres sessions sur les mêmes critères : pour chaque "
    "candidat, sa part d'« Acquis » moins celle que ces critères ont obtenue dans les autres "
    "sessions ; puis la moyenne par session et son intervalle à 95 % (Student). Aucun jury "
    f"n'est classé sous {calculs.MIN_CANDIDATS_JURY} candidats, et un écart n'est dit établi "
    "que si tout l'intervalle est du même côté de zéro. Cette comparaison confond le jury, le "
    "centre et la promotion de la session.")


def methode_jures(d: Donnees, par_grille: bool) -> str:
    """How the per-juror table was computed (by grid or by session), in French, with the
    share of passages whose grid's visa the register holds."""
    with_evidence = d.evaluations["passage_id"].nunique()
    signed = d.signatures["passage_id"].nunique()
    if not par_grille:
        return ("Par juré : aucune grille de l'année ne porte de visa lu au registre "
                "(passages enregistrés avant la lecture des visas, ou visas vidés) ; chaque "
                "juré est donc vu à travers les sessions où il a siégé (feuille « Jury ») : "
                "l'écart est celui de ses jurys, pas le sien (classeur, feuille « Jurés "
                "(sessions) »).")
    text = (
        f"Par juré, grille par grille : le visa du jury de chaque grille (onglet « Synthèse ») "
        f"dit qui l'a évaluée, et le registre le garde avec la décision ({signed} grille(s) "
        f"sur {with_evidence} évaluées dans l'année). Le taux d'un juré est la part des "
        "critères notés « Acquis » sur les grilles qu'il a signées, avec son intervalle de "
        "Wilson à 95 % ; sa référence est le juré médian de la même certification (médiane "
        f"des taux des autres jurés qui ont signé au moins {calculs.MIN_GRILLES_JURE} grilles, "
        "toutes sessions de l'année, donc mêmes critères) : une médiane, pour qu'un seul juré "
        "très sévère ne fasse pas paraître favorables tous ses collègues. Aucun juré n'est "
        f"classé sous {calculs.MIN_GRILLES_JURE} grilles ni comparé à moins de "
        f"{calculs.MIN_AUTRES_JURES} autres ; il n'est dit plus sévère ou plus favorable que "
        "si la référence sort de son intervalle et que l'écart atteint "
        f"{calculs.ECART_NOTABLE * 100:.0f} points (l'intervalle de Wilson traite chaque "
        "critère comme indépendant, ce que ne sont pas tout à fait les critères d'un même "
        "candidat). Une grille signée par deux jurés compte pour les deux : un juré qui siège "
        "souvent avec un juré sévère paraît un peu plus sévère lui-même. Un juré vu dans un "
        "seul centre est signalé : son écart peut tenir au centre (ses candidats, ses "
        "conditions) autant qu'à lui.")
    if signed < with_evidence:
        text += (f" {with_evidence - signed} grille(s) sans visa lu (enregistrées avant la "
                 "lecture des visas, ou visa vidé) ne comptent pas ici : leurs jurés sont "
                 "comparés par session (classeur, feuille « Jurés (sessions) »).")
    return text


def contexte(d: Donnees, tables: dict[str, Any], graphiques: list[Graphique],
             organisme: dict[str, Any], date_bilan: dt.date, classeur: str) -> dict[str, Any]:
    """The context of templates/bilan.docx; ``organisme`` is {nom, adresse, logo}."""
    from certidocs.documents.context import Image

    scope = f"certification {d.referentiel}" if d.referentiel else "toutes les certifications"
    codes = sorted(d.passages["referentiel"].unique())
    titres = [f"{c} – {r.certification.intitule}" if (r := d.referentiels.get(c)) else c
              for c in codes]
    seq, stamp = d.journal
    sessions = tables["Sessions"]
    crit = tables["Critères"]
    flagged = crit[crit["Signal"] != ""]
    muets = crit[(crit["Évaluations"] >= calculs.MIN_EVALUATIONS_SIGNAL)
                 & (crit["Candidats pour qui il a été décisif"] == 0)]
    centres = tables["Centres"]
    par_grille = not tables["Jurés"].empty
    charts = {key: {"present": False, "image": "", "titre": "", "lecture": "", "feuille": ""}
              for key in CLES_GRAPHIQUES.values()}
    for g in graphiques:
        charts[CLES_GRAPHIQUES[g.nom]] = {
            "present": True, "image": Image(g.png, largeur_mm=LARGEUR_GRAPHIQUE_MM),
            "titre": g.titre, "lecture": g.lecture, "feuille": g.feuille}
    return {
        "organisme": organisme,
        "document": {"titre": f"Bilan annuel {d.annee}"},
        "certification": {"intitule": "Conseil de perfectionnement"},
        "bilan": {
            "titre": f"Bilan annuel {d.annee}",
            "sous_titre": "Ce que disent les évaluations de l'année, pour le conseil de "
                          "perfectionnement",
            "perimetre": f"Sessions dont le premier jour tombe en {d.annee}, {scope} : "
                         f"{len(sessions)} session(s), {len(d.passages)} passage(s) ; "
                         + " ; ".join(titres) + ".",
            "donnees": "Décisions, évaluations critère par critère et jurés de chaque "
                       "grille (visa) : registre de l'espace (preuves de chaque décision) ; "
                       "composition des jurys et dysfonctionnements : feuilles « Jury » et "
                       "« Dysfonctionnements » du session.xlsx de chaque session.",
            "etat_registre": f"journal du registre jusqu'à l'entrée n° {seq}"
                             + (f" du {date_courte(dt.date.fromisoformat(stamp[:10]))}"
                                if stamp else ""),
            "date_edition": date_texte(date_bilan),
            "classeur": f"{classeur} : chaque chiffre de ce rapport y figure, dans la feuille "
                        "indiquée sous le tableau ou le graphique.",
            "regle_signal": f"Un critère acquis par au moins {pct(calculs.SEUIL_HAUT, 0)} des "
                            f"candidats, ou par au plus {pct(calculs.SEUIL_BAS, 0)}, ne "
                            "distingue presque personne : sa formulation est à revoir. Seuls "
                            f"les critères évalués au moins {calculs.MIN_EVALUATIONS_SIGNAL} "
                            "fois sont signalés.",
            "regle_concordance": "Critères évalués au moins "
                                 f"{calculs.MIN_EVALUATIONS_SIGNAL} fois dont la note n'a "
                                 "jamais fait basculer la décision du bloc (un « Acquis » de "
                                 "plus ou de moins n'aurait rien changé pour aucun candidat) : "
                                 "ils disent peu. La concordance est la part des candidats "
                                 "pour qui critère et bloc vont dans le même sens.",
            "methode_jurys": METHODE_JURYS,
            "methode_jures": methode_jures(d, par_grille),
            "centres": "Un seul centre dans le registre pour cette période : pas de "
                       "comparaison entre centres." if centres["Centre"].nunique() <= 1
                       else "",
        },
        "notes": list(d.notes),
        "certifications": [{
            "certification": r["Certification"], "sessions": str(r["Sessions"]),
            "inscrits": str(r["Inscrits"]), "presents": str(r["Présents"]),
            "certifies": str(r["Certifiés"]), "partielles": str(r["Validations partielles"]),
            "echecs": str(r["Non certifiés"]), "absents": str(r["Absents"]),
            "rattrapages": f"{r['Rattrapages']} ({r['Rattrapages certifiés']})",
            "taux": pct(r["Taux de certification"])}
            for _, r in tables["Certifications"].iterrows()],
        "sessions": [{
            "certification": r["Certification"], "session": r["Session"],
            "dates": _jour(r["Début"]) if r["Début"] == r["Fin"]
            else f"{_jour(r['Début'])} – {_jour(r['Fin'])}",
            "inscrits": str(r["Inscrits"]), "presents": str(r["Présents"]),
            "certifies": str(r["Certifiés"]), "partielles": str(r["Validations partielles"]),
            "echecs": str(r["Non certifiés"]), "absents": str(r["Absents"]),
            "rattrapages": f"{r['Rattrapages']} ({r['Rattrapages certifiés']})",
            "delai_deliberation": entier(r["Jours jusqu'à la délibération"]),
            "delai_cdc": entier(r["Jours jusqu'à la déclaration CDC"])}
            for _, r in sessions.iterrows()],
        "blocs": [{
            "certification": r["Certification"], "bloc": r["Bloc"], "intitule": r["Intitulé"],
            "evalues": str(r["Évalués"]), "valides": str(r["Validés"]), "taux": pct(r["Taux"]),
            "intervalle": intervalle(r["IC 95 % bas"], r["IC 95 % haut"])}
            for _, r in tables["Blocs"].iterrows()],
        "criteres_signales": [{
            "certification": r["Certification"], "critere": r["Critère"],
            "libelle": r["Libellé"], "evaluations": str(r["Évaluations"]),
            "taux": pct(r["Taux"]), "intervalle": intervalle(r["IC 95 % bas"],
                                                              r["IC 95 % haut"]),
            "signal": r["Signal"]} for _, r in flagged.iterrows()],
        "criteres_muets": [{
            "certification": r["Certification"], "critere": r["Critère"],
            "libelle": r["Libellé"], "taux": pct(r["Taux"]),
            "concordance": pct(r["Concordance avec le bloc"]),
            "ecart": points(r["Écart validés − non validés"]),
            "decisif": str(r["Candidats pour qui il a été décisif"])}
            for _, r in muets.iterrows()],
        "jurys": [{
            "certification": r["Certification"], "session": r["Session"],
            "jury": r["Jury (session.xlsx)"], "candidats": str(r["Candidats comparés"]),
            "observe": pct(r["Taux d'acquis observé"]),
            "attendu": pct(r["Taux attendu (autres sessions)"]),
            "ecart": points(r["Écart"]), "lecture": r["Lecture"]}
            for _, r in tables["Jurys"].iterrows()],
        "jures_par_grille": par_grille,
        "jures": [{
            "jure": r["Juré"], "college": r["Collège"],
            "sessions": f"{r['Sessions']} ({r['Centres']})",
            # « candidats »: the name a template from before the visa's reading uses
            "grilles": str(r["Grilles signées"]), "candidats": str(r["Grilles signées"]),
            "taux": f"{pct(r['Taux'])} {intervalle(r['IC 95 % bas'], r['IC 95 % haut'])}",
            "certification": r["Certification"],
            "reference": f"{pct(r['Taux de référence'])} ({r['Autres jurés classés']} "
                         "juré(s))",
            "ecart": points(r["Écart"]), "lecture": r["Lecture"],
            "centre_jure": f" — {r['Centre et juré']}" if r["Centre et juré"] else "",
            "avec": r["Co-signataire le plus fréquent"]}
            for _, r in tables["Jurés"].iterrows()],
        "jures_sessions": [{
            "jure": r["Juré"], "college": r["Collège"],
            "sessions": f"{r['Sessions']} ({r['Centres']})",
            "candidats": str(r["Candidats comparés"]),
            "ecart": points(r["Écart"]) + (
                "" if math.isnan(r["IC 95 % bas"]) else
                f" [{points(r['IC 95 % bas'])} ; {points(r['IC 95 % haut'])}]"),
            "lecture": r["Lecture"],
            "centre_jure": f" — {r['Centre et juré']}" if r["Centre et juré"] else ""}
            for _, r in tables["Jurés (sessions)"].iterrows()],
        "voies": _par(tables["Voies d'accès"], "Voie d'accès"),
        "centres": _par(centres, "Centre"),
        "plusieurs_centres": centres["Centre"].nunique() > 1,
        "recours": [{
            "session": r["Session"], "numero": r["N° candidat"], "recu_le": _jour(r["Reçu le"]),
            "motifs": r["Motifs"], "decision": r["Décision"],
            "motif_decision": r["Motif de la décision"] + (
                f" ({_jour(r['Décidé le'])})" if isinstance(r["Décidé le"], dt.date) else ""),
            "revision": r["Révision qui a suivi"]} for _, r in tables["Recours"].iterrows()],
        "revisions": [{
            "session": r["Session"], "numero": r["N° candidat"],
            "ancienne": r["Décision scellée"], "nouvelle": r["Décision révisée"],
            "motif": r["Motif"], "date": _jour(r["Date"])}
            for _, r in tables["Révisions"].iterrows()],
        "dysfonctionnements": [{
            "session": r["Session"], "date": _jour(r["Date"]), "description": r["Description"],
            "action": r["Action corrective"], "responsable": r["Responsable"]}
            for _, r in tables["Dysfonctionnements"].iterrows()],
        "graphiques": charts,
    }


def _par(table: Any, column: str) -> list[dict[str, str]]:
    return [{"certification": r["Certification"], "nom": r[column],
             "sessions": str(r["Sessions"]), "presents": str(r["Présents"]),
             "certifies": str(r["Certifiés"]), "taux": pct(r["Taux"]),
             "intervalle": intervalle(r["IC 95 % bas"], r["IC 95 % haut"])}
            for _, r in table.iterrows()]


def rendre(template: Path, context: dict[str, Any], target: Path) -> None:
    """Render templates/bilan.docx with ``context`` to ``target`` (written as given: the
    caller writes to a temporary path and renames)."""
    from certidocs.documents.render import Template

    Template(template).render_to(context, target)
