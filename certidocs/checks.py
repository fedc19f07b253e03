"""Rules checked on a session before the exam: pure functions on the model, no file access.

Each check returns ``Probleme`` objects located at the cell to correct. Boundaries follow the
certifier's wording in the seeds: « détenir 3 années d'expérience » (3 years is enough),
« ne pas avoir quitté la fonction depuis plus de cinq ans » (exactly 5 years is still allowed),
convocations « 1 mois avant » (exactly 30 days is enough).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable

from certidocs.errors import Probleme
from certidocs.model import VOIES_ACCES, Candidat, Jure, Referentiel, Session
from certidocs.registre import Historique
from certidocs.session.layout import CANDIDATS, JURY, PLANNING, RECOURS, Feuille

Locate = Callable[[Feuille, int, str], str]


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` moved by whole years (29 February becomes 28 February when needed)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _fold(text: str) -> str:
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(bare.replace("-", " ").lower().split())


def _fmt(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def check_dates(session: Session, referentiel: Referentiel, cell: Callable[[str], str]
                ) -> list[Probleme]:
    """Session dates in order, and convocations sent early enough."""
    info, out = session.info, []
    start = info.date_debut
    if start and info.date_fin and info.date_fin < start:
        out.append(Probleme(cell("date_fin"), f"la date de fin ({_fmt(info.date_fin)}) précède "
                                              f"la date de début ({_fmt(start)})"))
    if start and info.date_deliberation and info.date_deliberation < start:
        out.append(Probleme(cell("date_deliberation"), "la délibération "
                            f"({_fmt(info.date_deliberation)}) précède le début de la session"))
    delai = referentiel.regles.delai_convocation_jours
    if start and info.date_envoi_convocations:
        sent = info.date_envoi_convocations
        latest = start - dt.timedelta(days=delai)
        if sent > latest:
            out.append(Probleme(cell("date_envoi_convocations"),
                                f"convocations envoyées le {_fmt(sent)}, {(start - sent).days} "
                                f"jour(s) avant la session : il en faut au moins {delai} "
                                f"(envoi au plus tard le {_fmt(latest)})"))
    elif start and not info.date_envoi_convocations:
        out.append(Probleme(cell("date_envoi_convocations"),
                            f"date d'envoi des convocations non renseignée (au plus tard le "
                            f"{_fmt(start - dt.timedelta(days=delai))})", grave=False))
    end = info.date_fin or start
    if end and info.date_deliberation:
        limit = end + dt.timedelta(days=referentiel.regles.delai_resultats_jours)
        if info.date_deliberation > limit:
            out.append(Probleme(cell("date_deliberation"),
                                f"délibération après le {_fmt(limit)} : les résultats doivent "
                                f"être communiqués sous {referentiel.regles.delai_resultats_jours}"
                                " jours", grave=False))
    out += _check_enregistrement(start, end, referentiel, cell)
    return out


def _check_enregistrement(start: dt.date | None, end: dt.date | None, referentiel: Referentiel,
                          cell: Callable[[str], str]) -> list[Probleme]:
    """The session within the fiche's registration (error), the retake window too (warning)."""
    from certidocs.rules import fin_avant_rattrapage, hors_enregistrement

    cert = referentiel.certification
    out: list[Probleme] = []
    for key, day in (("date_debut", start), ("date_fin", end)):
        why = hors_enregistrement(cert, day) if day else None
        if why and not (key == "date_fin" and out):
            out.append(Probleme(cell(key), why))
    if end and not out:
        limite = fin_avant_rattrapage(cert, end, referentiel.regles)
        if limite and cert.date_fin_enregistrement:
            out.append(Probleme(cell("date_fin"), f"l'enregistrement de la fiche "
                                f"{cert.rncp or cert.code} prend fin le "
                                f"{_fmt(cert.date_fin_enregistrement)}, avant la fin du délai de "
                                f"rattrapage ({_fmt(limite)}) : un candidat ajourné ne pourrait "
                                "pas se représenter au titre de cet enregistrement",
                                grave=False))
    return out


def check_candidates(session: Session, referentiel: Referentiel, locate: Locate
                     ) -> list[Probleme]:
    """Duplicate numbers (or numbers whose grids would share a file name), unknown blocs,
    access routes the référentiel does not open."""
    from certidocs.grid.writer import grid_filename

    out: list[Probleme] = []
    seen: dict[str, int] = {}
    files: dict[str, Candidat] = {}
    codes = {b.code for b in referentiel.blocs}
    for c in session.candidats:
        # Compared without case: Windows and macOS would take the two files for one.
        filename = grid_filename(c).casefold()
        if c.numero in seen:
            out.append(Probleme(locate(CANDIDATS, c.ligne, "numero"),
                                f"N° candidat « {c.numero} » en double (déjà ligne "
                                f"{seen[c.numero]})"))
        elif c.numero:
            seen[c.numero] = c.ligne
            if filename in files:
                other = files[filename]
                out.append(Probleme(locate(CANDIDATS, c.ligne, "numero"),
                                    f"N° candidat « {c.numero} » trop proche du n° "
                                    f"« {other.numero} » (ligne {other.ligne}) pour un même nom :"
                                    f" leurs grilles porteraient le même nom de fichier "
                                    f"« {grid_filename(c)} » ; donnez des numéros qui diffèrent "
                                    "par des lettres ou des chiffres"))
            else:
                files[filename] = c
        unknown = [b for b in c.blocs_presentes if b not in codes]
        if unknown:
            out.append(Probleme(locate(CANDIDATS, c.ligne, "blocs_presentes"),
                                f"bloc(s) inconnu(s) du référentiel {referentiel.code} : "
                                f"{', '.join(unknown)} (blocs : {', '.join(sorted(codes))})"))
        # A value outside the drop-down was already reported when the sheet was read.
        if c.voie_acces in VOIES_ACCES and c.voie_acces not in referentiel.voies_acces:
            out.append(Probleme(locate(CANDIDATS, c.ligne, "voie_acces"),
                                f"voie d'accès « {c.voie_acces} » non ouverte par ce référentiel "
                                f"({', '.join(referentiel.voies_acces)})"))
        if not c.email:
            out.append(Probleme(locate(CANDIDATS, c.ligne, "email"),
                                "pas d'adresse électronique : la convocation devra être "
                                "envoyée par courrier", grave=False))
    return out


def check_jury(session: Session, referentiel: Referentiel, locate: Locate,
               first_row: Callable[[], str]) -> list[Probleme]:
    """Composition of the jury and each juror's eligibility on the session's first day."""
    rule = referentiel.regles.jury
    jury, out = session.jury, []
    start = session.info.date_debut
    if not jury:
        return [Probleme(first_row(), "aucun juré : la feuille « Jury » est vide")]
    reps = [j for j in jury if j.college == "Représentant du certificateur"]
    pros = [j for j in jury if j.college == "Professionnel"]
    if len(reps) != rule.representants_certificateur:
        out.append(Probleme(first_row(), f"{len(reps)} représentant(s) du certificateur : il en "
                                         f"faut {rule.representants_certificateur}"))
    if not rule.professionnels_min <= len(pros) <= rule.professionnels_max:
        out.append(Probleme(first_row(), f"{len(pros)} professionnel(s) du métier : il en faut "
                                         f"de {rule.professionnels_min} à "
                                         f"{rule.professionnels_max}"))
    if rule.majorite_externes:
        external = sum(1 for j in pros if j.externe)
        if external * 2 <= len(jury):
            out.append(Probleme(first_row(), f"{external} professionnel(s) externe(s) sur "
                                             f"{len(jury)} juré(s) : le jury doit être composé "
                                             "en majorité de professionnels externes à l'école"))
    presidents = [j for j in jury if j.president]
    if len(presidents) != 1:
        out.append(Probleme(first_row(), f"{len(presidents)} président(s) désigné(s) : il en "
                                         "faut un (colonne « Président »)"))
    seen: dict[tuple[str, ...], Jure] = {}
    for j in jury:
        # Same name once accents, case and punctuation are set aside: a row typed twice (it
        # would count twice in the composition above), or homonyms whose documents would
        # share one file name.
        key = tuple(" ".join(re.sub(r"[^a-z0-9]+", " ", _fold(part)).split())
                    for part in (j.nom, j.prenom))
        if key in seen:
            out.append(Probleme(locate(JURY, j.ligne, "nom"),
                                f"{j.prenom} {j.nom} : juré en double (même nom et prénom "
                                f"que ligne {seen[key].ligne}) ; supprimez la ligne en trop, "
                                "ou distinguez les homonymes (initiale d'un second prénom)"))
        else:
            seen[key] = j
        out += _check_juror(j, rule.experience_min_annees, rule.cessation_max_annees,
                            rule.session_information_heures, start, locate)
    return out


def _check_juror(j: Jure, min_years: int, max_gap: int, info_hours: int,
                 start: dt.date | None, locate: Locate) -> list[Probleme]:
    out: list[Probleme] = []
    who = f"{j.prenom} {j.nom}".strip()
    if j.experience_annees is not None and j.experience_annees < min_years:
        out.append(Probleme(locate(JURY, j.ligne, "experience_annees"),
                            f"{who} : {j.experience_annees:g} an(s) d'expérience dans le métier, "
                            f"il en faut au moins {min_years}"))
    if j.date_fin_exercice and start:
        if j.date_fin_exercice > start:
            out.append(Probleme(locate(JURY, j.ligne, "date_fin_exercice"),
                                f"{who} : date de fin d'exercice postérieure à la session ; "
                                "laissez vide si le juré exerce toujours"))
        elif add_years(j.date_fin_exercice, max_gap) < start:
            out.append(Probleme(locate(JURY, j.ligne, "date_fin_exercice"),
                                f"{who} : a quitté le métier le {_fmt(j.date_fin_exercice)}, "
                                f"plus de {max_gap} ans avant la session"))
    if info_hours:
        if j.date_session_information is None:
            out.append(Probleme(locate(JURY, j.ligne, "date_session_information"),
                                f"{who} : session d'information de {info_hours} heures non "
                                "suivie (date vide)"))
        elif start and j.date_session_information > start:
            out.append(Probleme(locate(JURY, j.ligne, "date_session_information"),
                                f"{who} : session d'information le "
                                f"{_fmt(j.date_session_information)}, après le début de la "
                                "session"))
    return out


def _same_person(text: str, juror: Jure) -> bool:
    """Whether a « Formateur ou tuteur » entry names this juror (either order, folded)."""
    words = set(_fold(text).split())
    names = set(_fold(juror.nom).split()) | set(_fold(juror.prenom).split())
    return bool(words) and bool(set(_fold(juror.nom).split())) and \
        set(_fold(juror.nom).split()) <= words and words <= names


def check_conflicts(session: Session, locate: Locate) -> list[Probleme]:
    """A juror must not evaluate a candidate they trained or tutored."""
    out: list[Probleme] = []
    for c in session.candidats:
        if not c.formateur_tuteur:
            continue
        for entry in c.formateur_tuteur.replace(",", ";").split(";"):
            for j in session.jury:
                if entry.strip() and _same_person(entry, j):
                    out.append(Probleme(locate(CANDIDATS, c.ligne, "formateur_tuteur"),
                                        f"conflit d'intérêts : {j.prenom} {j.nom} "
                                        f"({locate(JURY, j.ligne, 'nom')})"
                                        f" est formateur ou tuteur de {c.prenom} "
                                        f"{c.nom} et ne peut pas l'évaluer"))
    return out


def check_retake(c: Candidat, history: Historique, referentiel: Referentiel,
                 start: dt.date | None, locate: Locate) -> list[Probleme]:
    """Retake rights from the register: attempts left, one-year window, capitalised blocs."""
    out: list[Probleme] = []
    regles = referentiel.regles
    cell = locate(CANDIDATS, c.ligne, "numero")
    if history.certifie:
        out.append(Probleme(cell, f"{c.prenom} {c.nom} est déjà certifié(e) "
                                  f"({referentiel.code}) d'après le registre", grave=False))
    if history.echecs > regles.rattrapages_max:
        out.append(Probleme(cell, f"{c.prenom} {c.nom} : {history.echecs} échecs au registre ; "
                                  "après un deuxième échec, plus de nouvelle présentation"))
    elif history.echecs and history.date_premier_echec and start:
        limit = history.date_premier_echec + dt.timedelta(days=regles.delai_rattrapage_jours)
        if start > limit:
            out.append(Probleme(cell, f"{c.prenom} {c.nom} : rattrapage hors délai (premier "
                                      f"échec le {_fmt(history.date_premier_echec)}, "
                                      f"présentation possible jusqu'au {_fmt(limit)})"))
    already = sorted(set(c.blocs(referentiel)) & history.blocs_capitalises)
    if already and regles.capitalisation:
        out.append(Probleme(locate(CANDIDATS, c.ligne, "blocs_presentes"),
                            f"{c.prenom} {c.nom} présente un ou des blocs déjà capitalisés : "
                            f"{', '.join(already)}", grave=False))
    return out


def check_links(session: Session, locate: Locate) -> list[Probleme]:
    """Planning and appeals name candidates of this session; appeal dates in order."""
    out: list[Probleme] = []
    numbers = {c.numero for c in session.candidats}
    info = session.info
    for e in session.planning:
        if e.numero and e.numero not in numbers:
            out.append(Probleme(locate(PLANNING, e.ligne, "numero"),
                                f"N° candidat « {e.numero} » absent de la feuille Candidats"))
        last = info.date_fin or info.date_debut
        # With the session's own dates in the wrong order, that one error is enough.
        if e.date and info.date_debut and last and last >= info.date_debut and (
                e.date < info.date_debut or e.date > last):
            out.append(Probleme(locate(PLANNING, e.ligne, "date"),
                                f"épreuve le {_fmt(e.date)}, hors des dates de la session"))
    for r in session.recours:
        if r.numero and r.numero not in numbers:
            out.append(Probleme(locate(RECOURS, r.ligne, "numero"),
                                f"N° candidat « {r.numero} » absent de la feuille Candidats"))
        if r.date_decision and r.date_reception and r.date_decision < r.date_reception:
            out.append(Probleme(locate(RECOURS, r.ligne, "date_decision"),
                                "la décision précède la réception du recours"))
        if r.decision == "Non recevable" and not r.motif_decision:
            out.append(Probleme(locate(RECOURS, r.ligne, "motif_decision"),
                                "recours non recevable : le motif de la décision doit figurer "
                                "dans la notification"))
    return out


# --- French postal and INSEE codes ------------------------------------------------------------

_POSTAL = re.compile(r"\d{5}")
_INSEE_COMMUNE = re.compile(r"(?:\d{2}|2[AB])\d{3}")
#: First two digits no French postal or INSEE commune code starts with (00, 96; 99 is abroad).
_NO_DEPARTMENT = ("00", "96")


def _missing_zero(code: str, what: str, cell: str) -> Probleme:
    return Probleme(cell, f"{what} « {code} » : {len(code)} chiffres au lieu de 5 (un zéro en "
                          f"tête perdu ? « {code.zfill(5)} ») ; tapez-le comme texte ou au "
                          "format 00000")


def check_codes(session: Session, locate: Locate) -> list[Probleme]:
    """Postal codes and INSEE codes of birth communes, as French codes must be.

    A code of digits only must have 5 of them (a lost leading zero is the usual cause: 1000
    for 01000) and start with a department that exists; an INSEE commune code is 5
    characters, digits or 2A/2B (Corsica) then 3 digits, or 99 then a country's 3 digits for
    a birth abroad. A postal code with letters may be a foreign address: a warning only.
    """
    out: list[Probleme] = []
    for c in session.candidats:
        postal = c.code_postal.replace(" ", "").replace("\u00a0", "")
        cell = locate(CANDIDATS, c.ligne, "code_postal")
        if postal.isdigit():
            if len(postal) < 5:
                out.append(_missing_zero(postal, "code postal", cell))
            elif not _POSTAL.fullmatch(postal) or postal[:2] in (*_NO_DEPARTMENT, "99"):
                out.append(Probleme(cell, f"code postal « {c.code_postal} » invalide : un code "
                                          "postal français a 5 chiffres (01000 à 98999)"))
        elif postal:
            out.append(Probleme(cell, f"code postal « {c.code_postal} » : ce n'est pas un code "
                                      "postal français ; vérifiez-le si l'adresse est en France",
                                grave=False))
        insee = c.code_insee_naissance.replace(" ", "").replace("\u00a0", "").upper()
        cell = locate(CANDIDATS, c.ligne, "code_insee_naissance")
        if not insee:
            continue
        if insee.isdigit() and len(insee) < 5:
            out.append(_missing_zero(insee, "code INSEE de naissance", cell))
        elif not _INSEE_COMMUNE.fullmatch(insee) or insee[:2] in _NO_DEPARTMENT:
            out.append(Probleme(cell, f"code INSEE de naissance « {c.code_insee_naissance} » "
                                      "invalide : 5 caractères, comme 69123, 2A004 (Corse) ou "
                                      "99 suivi du code du pays pour une naissance à l'étranger"))
    return out
