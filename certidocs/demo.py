"""`certidocs demo`: the whole chain on the sample session, with simulated jurors.

A new workspace is created, the sample session copied into it, the register given the retake
candidate's earlier passage, and every step run as a coordinator would. The outcomes are
compared with those the sample intends (samples/demo.yaml): a difference is an error.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certidocs.errors import CertidocsError
from certidocs.workspace import DEFAULTS, init_workspace

SAMPLES = DEFAULTS / "samples"
# The demo organisation, written into the new workspace's certidocs.toml.
DEMO_SETTINGS = (
    ('nom = "Organisme certificateur"', 'nom = "Centre Exemple de Certification"'),
    ('adresse = ""', 'adresse = "12 rue de la République, 69002 Lyon"'),
    ('ville = ""', 'ville = "Lyon"'),
    ('nom = ""', 'nom = "Claire Martin"'),
    ('fonction = "Le directeur"', 'fonction = "Directrice"'),
    ('url_verification = ""', 'url_verification = "https://certificats.exemple.fr/verifier"'),
    ('telephone = ""', 'telephone = "04 78 00 00 00"'),
    ('email = ""', 'email = "certification@centre-exemple.fr"'),
    ('delai_jours = 0', 'delai_jours = 30'),
    ('destinataire = ""', 'destinataire = "Centre Exemple de Certification – Direction"'),
)
Say = Callable[[str], None]


class DemoError(CertidocsError):
    """Raised when the demo's outcomes differ from those the sample intends."""


@dataclass
class DemoReport:
    """What the demo produced and where."""

    espace: Path
    session: Path
    resultats: Any = None
    documents: list[Path] = field(default_factory=list)
    ecarts: list[str] = field(default_factory=list)


def load_plan() -> dict[str, Any]:
    """samples/demo.yaml, parsed."""
    import yaml

    with (SAMPLES / "demo.yaml").open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise DemoError(f"{SAMPLES / 'demo.yaml'} : fichier de démonstration illisible")
    return data


def seed_history(espace: Path, plan: dict[str, Any]) -> None:
    """Write the sample's earlier passages into the new workspace's register."""
    from certidocs.registre import Registre

    with Registre(espace / "registre.sqlite") as reg, reg.transaction() as conn:
        for past in plan.get("historique") or []:
            day = past["date"] if isinstance(past["date"], dt.date) else \
                dt.date.fromisoformat(str(past["date"]))
            who = past["candidat"]
            born = who["date_naissance"]
            sid = reg.session_id(conn, f"sessions/{past['session']}", past["session"],
                                 plan["referentiel"], day, day, past.get("lieu", ""))
            reg.enregistrer_passage(
                conn, session_id=sid, nom_naissance=who["nom_naissance"], prenom=who["prenom"],
                date_naissance=born, numero=str(past["numero"]), referentiel=plan["referentiel"],
                date_session=day, voie_acces=past.get("voie_acces", ""),
                decision=past["decision"], detail={}, blocs_valides=past.get("blocs_valides", []),
                identite={})


def simulate_jurors(session_dir: Path, plan: dict[str, Any]) -> int:
    """Fill every grid as the sample's simulated jurors would, with the visa of the
    sub-jury that evaluated it (``visas`` of samples/demo.yaml) dated from the session's
    first day; returns how many."""
    from certidocs.grid.writer import grid_filename
    from certidocs.session import open_session
    from certidocs.simulation import fill_grid, simulated_evaluations
    from certidocs.workspace import find_workspace

    opened = open_session(session_dir, find_workspace(session_dir))
    ref = opened.referentiel
    day = opened.lecture.session.info.date_debut
    visas = {str(numero): [str(n) for n in group.get("jures") or []]
             for group in plan.get("visas") or [] for numero in group.get("candidats") or []}
    filled = 0
    for c in opened.lecture.session.candidats:
        spec = (plan.get("jurys_simules") or {}).get(c.numero) or {}
        path = session_dir / "grilles" / grid_filename(c)
        if spec.get("absent") or not path.exists():
            continue
        blocs = c.blocs(ref)
        fill_grid(path, ref, blocs, simulated_evaluations(ref, blocs, spec["taux"], c.numero),
                  spec.get("observations"), visa=visas.get(c.numero), date_visa=day)
        filled += 1
    return filled


def _warn(say: Say, warnings: list[str]) -> None:
    """The documents' warnings, as a real run shows them: the sample référentiel has no RNCP
    number, and the demo must not hide what its certificates lack."""
    for w in warnings:
        say(f"   attention : {w}")


def demo_workspace(dossier: Path) -> Path:
    """A new workspace in ``dossier`` with the demo's settings (organisation, signatory,
    verification address, contact); its root."""
    espace = init_workspace(dossier).root
    config = espace / "certidocs.toml"
    text = config.read_text(encoding="utf-8")
    for key, value in DEMO_SETTINGS:
        text = text.replace(key, value, 1)
    config.write_text(text, encoding="utf-8")
    return espace


def run_demo(dossier: Path, say: Say) -> DemoReport:
    """The whole chain in ``dossier`` (a new workspace); ``say`` receives progress lines."""
    from certidocs import api

    plan = load_plan()
    espace = demo_workspace(dossier)
    say(f"1. Espace de travail créé : {espace}")
    session_dir = espace / "sessions" / plan["session"]
    shutil.copytree(SAMPLES / plan["session"], session_dir)
    seed_history(espace, plan)
    say(f"2. Session d'exemple copiée : {session_dir} (12 candidats, jury de 3) ; le registre "
        "connaît l'échec partiel antérieur du candidat en rattrapage")
    problems = api.verifier_session(session_dir)
    errors = [p for p in problems if p.grave]
    if errors:
        raise DemoError("la session d'exemple a des erreurs : " + "; ".join(map(str, errors)))
    say(f"3. session.xlsx vérifiée : aucune erreur, {len(problems)} avertissement(s)")
    report = DemoReport(espace, session_dir)
    grids = api.grilles(session_dir)
    say(f"4. {len(grids.creees)} grilles protégées créées dans {session_dir / 'grilles'}")
    avant = api.documents(session_dir, stage="avant")
    report.documents += avant.fichiers
    say("5. Convocations, feuille d'émargement et convocation du jury produites dans "
        f"{session_dir / 'documents'}")
    _warn(say, avant.avertissements)
    filled = simulate_jurors(session_dir, plan)
    say(f"6. {filled} grilles remplies par les jurés simulés")
    report.resultats = api.resultats(session_dir)
    say(f"7. Résultats calculés et enregistrés au registre : {report.resultats.xlsx_path}")
    from certidocs.deliberation import empreinte_affichee

    seal = api.deliberer(session_dir)
    say(f"8. Délibération : {seal.nombre} décisions scellées au registre, empreinte "
        f"{empreinte_affichee(seal.empreinte)} (imprimée sur le procès-verbal)")
    apres = api.documents(session_dir, stage="apres")
    report.documents += apres.fichiers
    say("9. Procès-verbal, fiches, certificats (QR code signé), attestations et notifications "
        "produits")
    _warn(say, [w for w in apres.avertissements if not w.startswith("session scellée")])
    expected = {num: spec.get("attendu") for num, spec in (plan.get("jurys_simules") or {}).items()}
    for r in report.resultats.resultats:
        if expected.get(r.numero) and expected[r.numero] != r.decision:
            report.ecarts.append(f"{r.numero} {r.prenom} {r.nom} : {r.decision}, attendu "
                                 f"{expected[r.numero]}")
    if report.ecarts:
        raise DemoError("les résultats diffèrent de ceux attendus : " + "; ".join(report.ecarts))
    return report
