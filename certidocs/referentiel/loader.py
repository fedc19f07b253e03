"""Load a référentiel YAML file into the model, reporting every problem with its path and line."""

from __future__ import annotations

import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from certidocs.errors import Probleme, ReferentielError, ReferentielInvalide
from certidocs.model import (
    VOIES_ACCES,
    Bloc,
    Certification,
    Competence,
    Critere,
    EvaluationComplementaire,
    Partenaire,
    PointAVerifier,
    Referentiel,
    RegleJury,
    Regles,
)
from certidocs.referentiel.schema import check, parse_date
from certidocs.yamlread import MAX_YAML_BYTES, YamlDoc, lire_yaml

_LEFTOVER_MARKUP = re.compile(r"<[a-zA-Z/][^>]*>|&[a-z]+;|&#\d+;|^[✓•]")
_FICHE = re.compile(r"^(RNCP|RS)\d{1,7}$")
_SIRET = re.compile(r"^\d{14}$")


def read_referentiel(path: Path) -> tuple[Referentiel | None, list[Probleme]]:
    """Check ``path`` completely; the référentiel is None when any problem is blocking.

    Warnings (``grave=False``) do not prevent loading.
    """
    try:
        info = path.stat()
        if stat.S_ISREG(info.st_mode) and info.st_size > MAX_YAML_BYTES:
            return None, [Probleme("", f"fichier de {info.st_size // 1024 // 1024} Mo, trop "
                                       "gros pour un référentiel (au plus "
                                       f"{MAX_YAML_BYTES // 1024 // 1024} Mo)")]
        if not stat.S_ISREG(info.st_mode) and not stat.S_ISDIR(info.st_mode):
            raise ReferentielError(f"{path} : ce n'est pas un fichier ordinaire (périphérique, "
                                   "tube…) ; indiquez le fichier YAML du référentiel")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ReferentielError(f"{path} : fichier introuvable") from None
    except IsADirectoryError:
        raise ReferentielError(f"{path} : c'est un dossier, pas un fichier YAML") from None
    except OSError as exc:
        raise ReferentielError(f"{path} : lecture impossible ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Probleme("", "le fichier n'est pas encodé en UTF-8 : enregistrez-le en "
                                   "UTF-8", line)]
    doc = lire_yaml(text, str(path))
    problems = list(doc.problemes)
    if doc.data is None and problems:
        return None, problems
    problems += check(doc)
    if not problems:
        problems += _check_links(doc)
    if any(p.grave for p in problems):
        return None, problems
    return _build(doc.data), problems


def load_referentiel(path: Path) -> Referentiel:
    """The référentiel in ``path``; ReferentielInvalide lists every blocking problem."""
    ref, problems = read_referentiel(path)
    if ref is None:
        raise ReferentielInvalide(str(path), problems)
    return ref


def _check_links(doc: YamlDoc) -> list[Probleme]:
    """Problems the schema cannot see: duplicate codes, unknown compétences, thresholds."""
    data = doc.data
    out: list[Probleme] = []

    def add(chemin: str, message: str, grave: bool = True) -> None:
        out.append(Probleme(chemin, message, doc.ligne(chemin), grave))

    seen: dict[str, dict[str, str]] = {"bloc": {}, "compétence": {}, "critère": {}}

    def unique(kind: str, value: str, chemin: str) -> None:
        first = seen[kind].get(value)
        if first is not None:
            add(chemin, f"code de {kind} « {value} » en double (déjà utilisé en {first})")
        else:
            seen[kind][value] = chemin

    for i, bloc in enumerate(data["blocs"]):
        bpath = f"blocs[{i}]"
        unique("bloc", bloc["code"], f"{bpath}.code")
        local = set()
        for j, comp in enumerate(bloc.get("competences") or []):
            unique("compétence", comp["code"], f"{bpath}.competences[{j}].code")
            local.add(comp["code"])
        used: set[str] = set()
        for k, crit in enumerate(bloc["criteres"]):
            cpath = f"{bpath}.criteres[{k}]"
            unique("critère", crit["code"], f"{cpath}.code")
            for m, ref in enumerate(crit["competences"]):
                if ref not in local:
                    where = "dans un autre bloc" if ref in seen["compétence"] else "inconnue"
                    add(f"{cpath}.competences[{m}]",
                        f"compétence « {ref} » {where} : ce critère doit évaluer une compétence "
                        f"du bloc {bloc['code']}")
                used.add(ref)
            if _LEFTOVER_MARKUP.search(crit["libelle"]):
                add(f"{cpath}.libelle", "le libellé contient encore une balise HTML, une entité "
                                        "ou une marque de liste", grave=False)
        for j, comp in enumerate(bloc.get("competences") or []):
            if comp["code"] not in used:
                add(f"{bpath}.competences[{j}]",
                    f"la compétence « {comp['code']} » n'est évaluée par aucun critère",
                    grave=False)
    _check_fiche(data["certification"], add)
    jury = (data.get("regles") or {}).get("jury") or {}
    lo, hi = jury.get("professionnels_min", 1), jury.get("professionnels_max", 2)
    if lo > hi:
        add("regles.jury.professionnels_min",
            f"professionnels_min ({lo}) dépasse professionnels_max ({hi})")
    codes_ec: dict[str, str] = {}
    for i, ec in enumerate(data.get("evaluations_complementaires") or []):
        chemin = f"evaluations_complementaires[{i}].code"
        if ec["code"] in codes_ec:
            add(chemin, f"code « {ec['code']} » en double (déjà utilisé en {codes_ec[ec['code']]})")
        codes_ec[ec["code"]] = chemin
    return out


def _check_fiche(cert: dict[str, Any], add: Callable[..., None]) -> None:
    """The fields taken from France Compétences' fiche: number, SIRETs, dates, level."""
    rncp = cert.get("rncp")
    if rncp and not _FICHE.match(str(rncp)):
        add("certification.rncp", f"numéro de fiche « {rncp} » mal formé : RNCP12345 (RNCP) ou "
                                  "RS1234 (Répertoire spécifique) attendu, préfixe compris")
    sirets = [("certification.siret_certificateur", cert.get("siret_certificateur"))]
    sirets += [(f"certification.partenaires[{i}].siret", p.get("siret"))
               for i, p in enumerate(cert.get("partenaires") or [])]
    for chemin, siret in sirets:
        if siret is None:
            continue
        digits = str(siret).replace(" ", "")
        if not _SIRET.match(digits):
            add(chemin, f"SIRET « {siret} » invalide : 14 chiffres attendus")
        elif not _luhn(digits):
            add(chemin, f"SIRET « {siret} » : la clé de contrôle ne correspond pas (chiffre mal "
                        "recopié ?) ; vérifiez-le sur la fiche", grave=False)
    effet = parse_date(cert.get("date_effet"))
    fin = parse_date(cert.get("date_fin_enregistrement"))
    if effet and fin and fin < effet:
        add("certification.date_fin_enregistrement",
            f"fin d'enregistrement ({fin:%d/%m/%Y}) avant la date d'effet ({effet:%d/%m/%Y})")
    niveau, europeen = cert.get("niveau"), cert.get("niveau_europeen")
    if niveau is not None and europeen is not None and niveau != europeen:
        add("certification.niveau_europeen",
            f"niveau européen {europeen} différent du niveau {niveau} : depuis le cadre national "
            "de 2019 ils sont égaux ; vérifiez la fiche", grave=False)


def _luhn(digits: str) -> bool:
    """The SIRET check key (Luhn). La Poste's establishments (356000000…) follow another rule."""
    if digits.startswith("356000000"):
        return sum(int(d) for d in digits) % 5 == 0
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in (value or ()))


def _build(data: dict[str, Any]) -> Referentiel:
    cert = data["certification"]
    regles = dict(data.get("regles") or {})
    jury = RegleJury(**(regles.pop("jury", None) or {}))
    blocs = tuple(
        Bloc(
            code=b["code"],
            intitule=b["intitule"],
            competences=tuple(Competence(c["code"], c["libelle"])
                              for c in b.get("competences") or ()),
            criteres=tuple(
                Critere(c["code"], c["libelle"], tuple(c["competences"]), c.get("groupe"))
                for c in b["criteres"]
            ),
            activites=_texts(b.get("activites")),
            modalites_evaluation=_texts(b.get("modalites_evaluation")),
            livrables=_texts(b.get("livrables")),
        )
        for b in data["blocs"]
    )
    return Referentiel(
        certification=Certification(
            code=cert["code"],
            intitule=cert["intitule"],
            niveau=cert.get("niveau"),
            rncp=cert.get("rncp"),
            nsf=cert.get("nsf"),
            certificateur=cert.get("certificateur"),
            source=cert.get("source"),
            niveau_europeen=cert.get("niveau_europeen"),
            codes_nsf=_texts(cert.get("codes_nsf")),
            siret_certificateur=cert.get("siret_certificateur"),
            date_effet=parse_date(cert.get("date_effet")),
            date_fin_enregistrement=parse_date(cert.get("date_fin_enregistrement")),
            partenaires=tuple(Partenaire(p["nom"], p.get("siret"), p.get("habilitation"))
                              for p in cert.get("partenaires") or ()),
            composition_jury=_texts(cert.get("composition_jury")),
        ),
        regles=Regles(jury=jury, **{k: v for k, v in regles.items()}),
        blocs=blocs,
        voies_acces=tuple(data.get("voies_acces") or VOIES_ACCES),
        qualites_non_observables=_texts(data.get("qualites_non_observables")),
        evaluations_complementaires=tuple(
            EvaluationComplementaire(e["code"], e["intitule"], tuple(e.get("voies") or ()),
                                     _texts(e.get("modalites")))
            for e in data.get("evaluations_complementaires") or ()
        ),
        informations_jury=_texts(data.get("informations_jury")),
        a_verifier=tuple(PointAVerifier(p["chemin"], p["raison"])
                         for p in data.get("a_verifier") or ()),
    )
