"""A readable summary of a référentiel, for `certidocs referentiel afficher`."""

from __future__ import annotations

from certidocs.model import Referentiel


def _pct(rate: float) -> str:
    return f"{rate * 100:g} %"


def summarise(ref: Referentiel) -> str:
    """Several lines of French: identity, rules, then each bloc with its counts."""
    c, r = ref.certification, ref.regles
    lines = [f"{c.intitule}", f"  code : {c.code}"]
    fiche = "fiche RS" if (c.rncp or "").startswith("RS") else "fiche RNCP"
    certifier = (f"{c.certificateur} (SIRET {c.siret_certificateur})"
                 if c.certificateur and c.siret_certificateur else c.certificateur)
    europeen = f" (européen : {c.niveau_europeen})" if c.niveau_europeen else ""
    enregistrement = " → ".join(d.strftime("%d/%m/%Y") for d in (c.date_effet,
                                                                 c.date_fin_enregistrement) if d)
    for label, value in ((fiche, c.rncp), ("niveau", f"{c.niveau}{europeen}" if c.niveau else ""),
                         ("code NSF", ", ".join(c.codes_nsf) or c.nsf),
                         ("certificateur", certifier),
                         ("enregistrement (effet → fin)", enregistrement),
                         ("partenaires habilités", len(c.partenaires) or None),
                         ("source", c.source)):
        if value:
            lines.append(f"  {label} : {value}")
    n_comp, n_crit = len(ref.competences), len(ref.criteres)
    lines.append(f"  {len(ref.blocs)} bloc(s), {n_comp} compétence(s), {n_crit} critère(s)")
    lines.append("")
    lines.append("Règles")
    if r.mode_decision == "global":
        lines.append(f"  certifié si au moins {_pct(r.seuil_certification)} de tous les critères "
                     "sont acquis")
    else:
        lines.append("  certifié quand tous les blocs sont validés")
    lines.append(f"  bloc validé si au moins {_pct(r.seuil_bloc)} de ses critères sont acquis"
                 + (" ; blocs capitalisés" if r.capitalisation else ""))
    lines.append(f"  rattrapage : {r.rattrapages_max} nouvelle(s) présentation(s) dans les "
                 f"{r.delai_rattrapage_jours} jours")
    lines.append(f"  convocations au moins {r.delai_convocation_jours} jours avant ; résultats "
                 f"sous {r.delai_resultats_jours} jours")
    j = r.jury
    lines.append(f"  jury : {j.representants_certificateur} représentant(s) du certificateur, "
                 f"{j.professionnels_min} à {j.professionnels_max} professionnel(s)"
                 + (", majorité de professionnels externes" if j.majorite_externes else ""))
    lines.append(f"  jurés : {j.experience_min_annees} ans d'expérience au moins, hors du métier "
                 f"depuis moins de {j.cessation_max_annees} ans"
                 + (f", session d'information de {j.session_information_heures} h"
                    if j.session_information_heures else ""))
    lines.append(f"  voies d'accès : {', '.join(ref.voies_acces)}")
    lines.append("")
    lines.append("Blocs")
    for b in ref.blocs:
        lines.append(f"  {b.code}  {b.intitule}")
        lines.append(f"        {len(b.competences)} compétence(s), {len(b.criteres)} critère(s)")
        for comp in b.competences:
            n = sum(1 for k in b.criteres if comp.code in k.competences)
            lines.append(f"        - {comp.code} : {_short(comp.libelle)} ({n} critère(s))")
    for ec in ref.evaluations_complementaires:
        lines.append(f"  {ec.code}  {ec.intitule} (évaluation complémentaire : "
                     f"{', '.join(ec.voies) or 'toutes voies'})")
    if ref.a_verifier:
        lines.append("")
        lines.append(f"À vérifier ({len(ref.a_verifier)})")
        lines += [f"  - {p.chemin} : {p.raison}" for p in ref.a_verifier]
    return "\n".join(lines)


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
