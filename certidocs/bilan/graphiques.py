"""The review's charts, drawn with matplotlib (Agg backend, no display needed) as PNG bytes.

Each chart is drawn from one table of ``calculs`` (the same rows the workbook holds), has a
title and comes with the one sentence that says how to read it. PNGs are written without
metadata (no software name, no date) and with the fonts matplotlib ships, so the same table
gives the same bytes.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

COULEURS = {"Certifié": "#2E7D32", "Validation partielle": "#F9A825", "Non certifié": "#C62828",
            "Absent": "#9E9E9E"}
BLEU = "#1F3A5F"
GRIS = "#9E9E9E"
EXTREMES = 10
"""How many of the lowest and of the highest criteria the criteria chart shows (all are in
the workbook's « Critères » sheet)."""


@dataclass(frozen=True)
class Graphique:
    """One chart: file name in the report, title, one-sentence reading, source sheet, PNG."""

    nom: str
    titre: str
    lecture: str
    feuille: str
    png: bytes


def _figure(width: float, height: float) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 8,
                         "axes.spines.top": False, "axes.spines.right": False,
                         "svg.hashsalt": "certidocs"})
    return plt.subplots(figsize=(width, height), dpi=150)


def _png(fig: Any) -> bytes:
    from matplotlib import pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def _pct(value: float) -> str:
    return f"{value * 100:.0f} %".replace(".", ",")


def decisions_par_session(sessions: Any) -> Graphique | None:
    """Stacked bars: each session's candidates by decision (table « Sessions »)."""
    if sessions.empty:
        return None
    fig, ax = _figure(9.5, 4.2)
    labels = [str(s) for s in sessions["Session"]]
    x = list(range(len(labels)))
    bottom = [0.0] * len(labels)
    for decision, column in (("Certifié", "Certifiés"),
                             ("Validation partielle", "Validations partielles"),
                             ("Non certifié", "Non certifiés"), ("Absent", "Absents")):
        values = [float(v) for v in sessions[column]]
        ax.bar(x, values, bottom=bottom, color=COULEURS[decision], label=decision, width=0.8)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(x, labels, rotation=60 if len(labels) > 6 else 0, ha="right"
                  if len(labels) > 6 else "center", fontsize=6 if len(labels) > 20 else 8)
    ax.set_ylabel("Candidats inscrits")
    ax.set_title("Décisions par session", pad=24)
    # the legend above the bars: below, it would sit on the slanted session names
    ax.legend(ncols=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    return Graphique("decisions_par_session.png", "Décisions par session",
                     "Chaque barre est une session : sa hauteur est le nombre d'inscrits, ses "
                     "couleurs la part de certifiés, de validations partielles, d'échecs et "
                     "d'absents.", "Sessions", _png(fig))


def criteres_extremes(criteres: Any) -> Graphique | None:
    """Dots with Wilson intervals: the criteria least and most often « Acquis » (table
    « Critères »), flagged ones in colour."""
    if criteres.empty:
        return None
    ranked = criteres.sort_values(["Taux", "Certification", "Critère"], kind="stable")
    if len(ranked) > 2 * EXTREMES:
        ranked = ranked.iloc[list(range(EXTREMES)) + list(range(len(ranked) - EXTREMES,
                                                                 len(ranked)))]
    fig, ax = _figure(9.5, max(2.5, 0.22 * len(ranked) + 1.2))
    y = list(range(len(ranked)))
    several = criteres["Certification"].nunique() > 1
    for i, row in enumerate(ranked.itertuples(index=False)):
        rate, low, high = row[ranked.columns.get_loc("Taux")], \
            row[ranked.columns.get_loc("IC 95 % bas")], row[ranked.columns.get_loc("IC 95 % haut")]
        flag = row[ranked.columns.get_loc("Signal")]
        color = "#C62828" if flag == "presque jamais acquis" else (
            "#2E7D32" if flag == "presque toujours acquis" else BLEU)
        if not math.isnan(low):
            ax.plot([low, high], [i, i], color=GRIS, linewidth=1.2)
        ax.plot([rate], [i], "o", color=color, markersize=4)
    names = [f"{r['Certification']} {r['Critère']}" if several else str(r["Critère"])
             for _, r in ranked.iterrows()]
    ax.set_yticks(y, names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0 %", "25 %", "50 %", "75 %", "100 %"])
    ax.axvline(0.9, color="#2E7D32", linewidth=0.6, linestyle=":")
    ax.axvline(0.1, color="#C62828", linewidth=0.6, linestyle=":")
    ax.set_xlabel("Part des candidats à qui le critère est « Acquis » (trait : intervalle à 95 %)")
    ax.set_title("Critères les moins et les plus souvent acquis")
    return Graphique("criteres_extremes.png", "Critères les moins et les plus souvent acquis",
                     "Chaque point est un critère, son trait l'incertitude due au nombre de "
                     "candidats : en rouge ceux que presque personne n'obtient, en vert ceux "
                     "que presque tout le monde obtient, deux cas à réexaminer.",
                     "Critères", _png(fig))


def ecarts_jurys(jurys: Any) -> Graphique | None:
    """Forest plot: each jury's gap to the other juries with its interval (table « Jurys »);
    juries under the minimum of candidates are drawn in grey, without interval."""
    shown = jurys[jurys["Candidats comparés"] > 0]
    if shown.empty:
        return None
    fig, ax = _figure(9.5, max(2.5, 0.22 * len(shown) + 1.2))
    for i, row in enumerate(shown.itertuples(index=False)):
        gap = row[shown.columns.get_loc("Écart")]
        low = row[shown.columns.get_loc("IC 95 % bas")]
        high = row[shown.columns.get_loc("IC 95 % haut")]
        reading = str(row[shown.columns.get_loc("Lecture")])
        color = GRIS if math.isnan(low) else ("#C62828" if "sévère" in reading else (
            "#2E7D32" if "favorable" in reading else BLEU))
        if not math.isnan(low):
            ax.plot([low * 100, high * 100], [i, i], color=color, linewidth=1.4)
        ax.plot([gap * 100], [i], "o", color=color, markersize=4)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(shown)), [str(s) for s in shown["Session"]], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("Écart de taux d'« Acquis » avec les autres sessions, mêmes critères "
                  "(points de pourcentage)")
    ax.set_title("Sévérité des jurys, session par session")
    return Graphique("ecarts_jurys.png", "Sévérité des jurys, session par session",
                     "Un point à gauche de zéro : ce jury a donné moins d'« Acquis » que les "
                     "autres sur les mêmes critères ; seul un trait entier d'un côté de zéro "
                     "établit un écart, et les jurys en gris ont trop peu de candidats pour "
                     "être comparés.", "Jurys", _png(fig))


def taux_jures(jures: Any) -> Graphique | None:
    """Per certification and juror compared by grid (table « Jurés »): their « Acquis » rate
    (dot) with its Wilson interval, and their reference, the median of the other ranked
    jurors (grey bar); coloured when the reading says harsher or more lenient, grey when
    under the minimum of grids."""
    if jures.empty:
        return None
    # as the jury chart's rows, so that title, chart and reading fit on one landscape page
    fig, ax = _figure(9.5, max(2.5, 0.22 * len(jures) + 1.4))
    several = jures["Certification"].nunique() > 1
    labels = []
    for i, row in enumerate(jures.to_dict("records")):
        reading = str(row["Lecture"])
        ranked = not reading.startswith("non classé")
        color = GRIS if not ranked else ("#C62828" if "sévère" in reading else (
            "#2E7D32" if "favorable" in reading else BLEU))
        if not math.isnan(row["Taux de référence"]):
            ax.plot([row["Taux de référence"] * 100], [i], "|", color="black", markersize=11,
                    markeredgewidth=1.2)
        ax.plot([row["IC 95 % bas"] * 100, row["IC 95 % haut"] * 100], [i, i], color=color,
                linewidth=1.6)
        ax.plot([row["Taux"] * 100], [i], "o", color=color, markersize=5)
        suffix = "" if ranked else ", non classé"
        code = f"{row['Certification']}, " if several else ""
        count = int(row["Grilles signées"])
        labels.append(f"{row['Juré']} ({code}{count} grille{'s' if count > 1 else ''}{suffix})")
    ax.set_yticks(range(len(jures)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("« Acquis » sur les grilles signées (%) : ● le juré (trait : intervalle de "
                  "Wilson à 95 %), | le juré médian")
    ax.set_title("Taux d'« Acquis » de chaque juré, grille par grille")
    return Graphique("taux_jures.png", "Taux d'« Acquis » de chaque juré, grille par grille",
                     "Chaque ligne est un juré : le point est sa part d'« Acquis » sur les "
                     "grilles qu'il a signées, le trait son incertitude, la barre noire le "
                     "juré médian de la même certification ; en rouge un juré nettement plus "
                     "sévère, en vert plus favorable, en gris un juré qui a signé trop peu de "
                     "grilles pour être classé.", "Jurés", _png(fig))


def voies(voies_table: Any) -> Graphique | None:
    """Bars with Wilson intervals: certification rate per access route (table « Voies
    d'accès »)."""
    if voies_table.empty:
        return None
    fig, ax = _figure(9.5, 3.2)
    several = voies_table["Certification"].nunique() > 1
    labels = [f"{c} – {v}" if several else str(v) for c, v in
              zip(voies_table["Certification"], voies_table["Voie d'accès"], strict=True)]
    rates = [float(t) for t in voies_table["Taux"]]
    lows = [max(0.0, r - float(lo)) for r, lo in zip(rates, voies_table["IC 95 % bas"],
                                                      strict=True)]
    highs = [max(0.0, float(h) - r) for r, h in zip(rates, voies_table["IC 95 % haut"],
                                                     strict=True)]
    ax.barh(range(len(labels)), rates, xerr=[lows, highs], color=BLEU, ecolor=GRIS,
            capsize=3, height=0.6)
    for i, (rate, n) in enumerate(zip(rates, voies_table["Présents"], strict=True)):
        # after the interval's end, in the ink of the axes: inside a short bar it is cut
        ax.text(min(rate + highs[i] + 0.02, 0.80), i, f"{_pct(rate)} de {int(n)}",
                va="center", fontsize=7)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0 %", "25 %", "50 %", "75 %", "100 %"])
    ax.set_title("Taux de certification par voie d'accès")
    return Graphique("voies_acces.png", "Taux de certification par voie d'accès",
                     "Part des candidats présents qui ont obtenu la certification complète, "
                     "par voie d'accès ; le trait gris dit l'incertitude, large quand la voie "
                     "compte peu de candidats.", "Voies d'accès", _png(fig))


def tous(tables: dict[str, Any]) -> list[Graphique]:
    """Every chart the tables allow, in the order of the report."""
    made = [decisions_par_session(tables["Sessions"]), criteres_extremes(tables["Critères"]),
            ecarts_jurys(tables["Jurys"]), taux_jures(tables["Jurés"]),
            voies(tables["Voies d'accès"])]
    return [g for g in made if g is not None]
