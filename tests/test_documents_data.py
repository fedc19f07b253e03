"""Shared data of the document tests: a session with every kind of candidate and outcome.

Names carry what breaks naive templating: XML metacharacters (& < > ' "), accents, and Jinja
syntax that must be printed, never run. Imported by the other test_documents_* modules.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from helpers import REFERENTIELS

from certidocs.documents.context import CertificatInfo
from certidocs.model import (
    Candidat,
    Dysfonctionnement,
    Epreuve,
    Jure,
    Recours,
    Referentiel,
    Resultat,
    ResultatBloc,
    Session,
    SessionInfo,
)

TRICKY_NOM = "O'Brien & <Fils> \"Ltd\""
JINJA_NOM = "{{ 7*7 }}"
TODAY = date(2026, 12, 18)
SECRET = b"0123456789abcdef0123456789abcdef"


def referentiel(code: str = "CPECOM") -> Referentiel:
    """A shipped référentiel (CPECOM: 5 blocs, mode blocs)."""
    from certidocs.referentiel import load_referentiel

    return load_referentiel(REFERENTIELS / f"{code}.yaml")


def candidats() -> tuple[Candidat, ...]:
    """Four candidates: certified (usage name), partial, failed (XML and Jinja names), absent."""
    return (
        Candidat("001", "Madame", "Durand-Lefèvre", "Élodie", nom_usage="Martin",
                 date_naissance=date(1990, 3, 1), lieu_naissance="Saint-Étienne (42)",
                 email="elodie@example.fr", adresse="12, rue de l'Église",
                 code_postal="42000", ville="Saint-Étienne", presence="Présent", ligne=2),
        Candidat("002", "M.", TRICKY_NOM, "Seán", date_naissance=date(1985, 11, 23),
                 lieu_naissance="Cork (Irlande)", adresse="3 quai <des> Arts & Métiers",
                 code_postal="75006", ville="Paris", voie_acces="VAE", presence="Présent",
                 blocs_presentes=("BC01", "BC02"), ligne=3),
        Candidat("003", "Mme", JINJA_NOM, "{% raw %}Zoé", date_naissance=date(2000, 1, 1),
                 lieu_naissance="Lyon", presence="Présent", ligne=4),
        Candidat("004", "Monsieur", "Absent", "Paul", presence="Absent", ligne=5),
    )


def session(ref: Referentiel | None = None) -> Session:
    """The test session: two exam days, a jury of three, a recours, a dysfunction."""
    return Session(
        nom="2026-12-CPECOM",
        info=SessionInfo(referentiel="CPECOM", intitule="Session de décembre 2026",
                         date_debut=date(2026, 12, 14), date_fin=date(2026, 12, 15),
                         lieu="Campus Sud & Cie", adresse="1 avenue des Lilas, 69007 Lyon",
                         responsable="Claire Fontaine", date_deliberation=date(2026, 12, 16),
                         date_envoi_convocations=date(2026, 11, 10)),
        candidats=candidats(),
        jury=(
            Jure("Bernard", "Anne", fonction="Directrice e-commerce", organisme="ShopCo",
                 college="Professionnel", externe=True, president=True),
            Jure("N'Diaye", "Moussa", fonction="Responsable pédagogique",
                 organisme="École & Co", college="Représentant du certificateur",
                 externe=False),
            Jure("Leroy", "Lucie", fonction="Consultante", organisme="Indépendante",
                 college="Professionnel", externe=True),
        ),
        planning=(
            Epreuve("001", "Soutenance orale", date(2026, 12, 14), "9 h 00", "B12"),
            Epreuve("002", "Soutenance orale", date(2026, 12, 14), "10 h 30", "B12"),
            Epreuve("003", "Étude de cas", date(2026, 12, 15), "14 h 00", "A3"),
            Epreuve("004", "Étude de cas", date(2026, 12, 15), "16 h 00", "A3"),
        ),
        recours=(
            Recours("003", date(2027, 1, 5), "Je conteste <la> note & le « jury »",
                    "Non recevable", "Recours reçu hors délai (plus de 30 jours)",
                    date(2027, 1, 12)),
        ),
        dysfonctionnements=(
            Dysfonctionnement(date(2026, 12, 14), "Vidéoprojecteur en panne (salle B12)",
                              "Remplacé par l'écran de la salle B14", "Claire Fontaine"),
        ),
    )


def resultats(ref: Referentiel) -> tuple[Resultat, ...]:
    """Outcomes matching ``candidats()``: Certifié, Validation partielle, Non certifié, Absent."""
    codes = [b.code for b in ref.blocs]

    def blocs(valid: dict[str, bool], capitalise: tuple[str, ...] = ()) -> tuple[ResultatBloc,
                                                                                   ...]:
        out = []
        for code in codes:
            if code not in valid:
                continue
            total = len(ref.bloc(code).criteres)
            acquis = total if valid[code] else total // 3
            out.append(ResultatBloc(code, acquis, total, valid[code], code in capitalise))
        return tuple(out)

    return (
        Resultat("001", "Durand-Lefèvre", "Élodie", "Certifié",
                 blocs({c: True for c in codes}, capitalise=(codes[0],))),
        Resultat("002", TRICKY_NOM, "Seán", "Validation partielle",
                 blocs({"BC01": True, "BC02": False}), rattrapage_possible=True,
                 rattrapage_jusqu_au=date(2027, 12, 16)),
        Resultat("003", JINJA_NOM, "Zoé", "Non certifié", blocs({c: False for c in codes}),
                 rattrapage_possible=False),
        Resultat("004", "Absent", "Paul", "Absent", rattrapage_possible=True,
                 rattrapage_jusqu_au=date(2027, 12, 16)),
    )


def organisme(logo: Path | None = None, **org: str) -> dict[str, Any]:
    """certidocs.toml settings as the context builders take them."""
    return {
        "organisme": {"nom": "Institut <Alpha> & Ω", "adresse": "5 rue Bleue, 75009 Paris",
                      "ville": "Paris", "logo": str(logo) if logo else "", **org},
        "signataire": {"nom": "Jean-Michel Dupré", "fonction": "Le directeur général"},
        "certificats": {"url_verification": "https://certif.example.fr/verifier"},
    }


def certificat_info(numero: str = "CPECOM-2026-0001") -> CertificatInfo:
    """A certificate as the register would allocate it."""
    from certidocs.documents.certificat import verification_code

    code = verification_code(SECRET, numero, "Durand-Lefèvre", "Élodie", date(1990, 3, 1),
                             TODAY)
    return CertificatInfo(numero, code, TODAY, "Lyon")


def logo_png(path: Path) -> Path:
    """A small PNG logo (drawn with segno, which is already a dependency)."""
    import segno

    segno.make("LOGO", micro=False).save(str(path), kind="png", scale=4, dark="#1F3A5F")
    return path


def all_contexts(ref: Referentiel, org: dict[str, Any]) -> dict[str, list[tuple[str,
                                                                           dict[str, Any]]]]:
    """Every document of the session: type → [(file name, context)], as a command would."""
    from certidocs.documents import context as ctx

    s = session(ref)
    res = {r.numero: r for r in resultats(ref)}
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    out["convocation_candidat"] = [
        (c.numero, ctx.contexte_convocation_candidat(s, ref, org, c)) for c in s.candidats]
    out["convocation_jury"] = [
        (f"jure{i}", ctx.contexte_convocation_jury(s, ref, org, j, date_document=TODAY))
        for i, j in enumerate(s.jury, 1)]
    out["emargement"] = [("emargement", ctx.contexte_emargement(s, ref, org,
                                                                 date_document=TODAY))]
    out["fiche_resultats"] = [
        (c.numero, ctx.contexte_fiche_resultats(s, ref, org, c, res[c.numero],
                                                 date_document=TODAY))
        for c in s.candidats if ctx.concerne("fiche_resultats", res[c.numero])]
    out["proces_verbal"] = [("proces_verbal", ctx.contexte_proces_verbal(
        s, ref, org, res.values(), date_document=TODAY))]
    out["certificat"] = [
        (c.numero, ctx.contexte_certificat(s, ref, org, c, res[c.numero], certificat_info()))
        for c in s.candidats if ctx.concerne("certificat", res[c.numero])]
    out["attestation_blocs"] = [
        (c.numero, ctx.contexte_attestation_blocs(s, ref, org, c, res[c.numero],
                                                   date_document=TODAY))
        for c in s.candidats if ctx.concerne("attestation_blocs", res[c.numero])]
    out["notification_resultats"] = [
        (c.numero, ctx.contexte_notification_resultats(
            s, ref, org, c, res[c.numero],
            certificat_info() if res[c.numero].decision == "Certifié" else None,
            date_document=TODAY))
        for c in s.candidats if ctx.concerne("notification_resultats", res[c.numero])]
    out["non_recevabilite"] = [
        (f"recours_{r.numero}", ctx.contexte_non_recevabilite(s, ref, org,
                                                               s.candidat(r.numero), r))
        for r in s.recours if ctx.concerne("non_recevabilite", recours=r)]
    out["suivi_dysfonctionnements"] = [("suivi", ctx.contexte_suivi_dysfonctionnements(
        s, ref, org, date_document=TODAY))]
    return out


def docx_text(path: Path) -> str:
    """Every text of a .docx, reopened with python-docx: paragraphs, table cells (nested
    tables too), headers and footers, one paragraph per line."""
    import docx
    from docx.table import _Cell
    from docx.text.paragraph import Paragraph

    document = docx.Document(str(path))
    lines: list[str] = []

    def walk(container: Any) -> None:
        for item in container.iter_inner_content():
            if isinstance(item, Paragraph):
                lines.append(item.text)
            else:
                for row in item.rows:
                    for tc in row._tr.tc_lst:  # each cell once, even when merged
                        walk(_Cell(tc, item))

    walk(document)
    for section in document.sections:
        walk(section.header)
        walk(section.footer)
    return "\n".join(lines)
