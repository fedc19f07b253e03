"""Benchmark: France Compétences' whole export, streamed.

Generates a synthetic export of FICHES fiches in the shape of the real one (flux 4.1: long
free texts, blocs, correspondences with other certifications' blocs, partners, jury), as .xml
and as the .zip France Compétences publishes, then measures, each in a fresh process so that
peak memory is the step's own:

- ``--fiche`` on the last fiche of the export (the worst case: the whole file is read);
- the same from the .zip;
- ``referentiel chercher`` over the whole export;
- the same ``--fiche`` on an export ten times smaller, to show memory does not grow with it.

Run: ``.venv/bin/python benchmarks/bench_rncp.py [--fiches N] [--garder DOSSIER]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

FICHES = 25_000
"""Fiches in the synthetic export: about the size of France Compétences' full RNCP+RS export."""

BLOCS_PAR_FICHE = 4
"""Blocs per RNCP fiche in the synthetic export (real fiches have 2 to 8)."""

_MOTS = (
    "personne", "titulaire", "certification", "intervient", "conduite", "activités", "métier",
    "autonomie", "respect", "règles", "sécurité", "qualité", "client", "chantier", "équipe",
    "analyse", "diagnostic", "contrôle", "maintenance", "vente", "gestion", "projet", "budget",
    "planning", "outil", "matériel", "installation", "réseau", "données", "service",
    "commercial", "relation", "fournisseur", "stock", "logistique", "accueil", "conseil",
    "produit", "normes", "environnement", "prévention", "risques", "rédaction", "compte",
    "rendu",
)


def _texte(n: int, words: int) -> str:
    """Free text that varies from fiche to fiche, so that the .zip compresses as a real one
    (a few times, not a thousand): a cheap linear congruential sequence picks the words."""
    state, out = n * 7919 + 13, []
    for i in range(words):
        state = (state * 1103515245 + 12345) % 2**31
        out.append(_MOTS[state % len(_MOTS)])
        if i % 14 == 13:
            out.append(f"{state % 997}.    -")
    return " ".join(out)


def _fiche(n: int) -> str:
    rs = n % 5 == 4  # one fiche in five is an RS fiche, without blocs
    numero = f"RS{n}" if rs else f"RNCP{n}"
    blocs = "" if rs else "<BLOCS_COMPETENCES>" + "".join(
        f"<BLOC_COMPETENCES><CODE>{numero}BC0{b}</CODE><LIBELLE>Bloc {b} de la certification "
        f"{n}</LIBELLE><LISTE_COMPETENCES>- Analyser la demande du client  - Organiser son "
        f"intervention en tenant compte   des contraintes du site  - Rendre compte"
        f"</LISTE_COMPETENCES><MODALITES_EVALUATION>Mise en situation professionnelle "
        f"reconstituée.</MODALITES_EVALUATION></BLOC_COMPETENCES>"
        for b in range(1, BLOCS_PAR_FICHE + 1)) + "</BLOCS_COMPETENCES>"
    correspondances = "" if rs else (
        "<CORRESPONDANCES><CORRESPONDANCE><SOURCE><BLOC_COMPETENCES><CODE>"
        f"RNCP{n + 100000}BC01</CODE></BLOC_COMPETENCES></SOURCE><DESTINATION>"
        f"<BLOC_COMPETENCES><CODE>{numero}BC01</CODE></BLOC_COMPETENCES></DESTINATION>"
        "</CORRESPONDANCE></CORRESPONDANCES>")
    return (f"<FICHE><ID_FICHE>{n}</ID_FICHE><NUMERO_FICHE>{numero}</NUMERO_FICHE>"
            f"<INTITULE>Certification synthétique numéro {n} des métiers de la "
            f"{'vente' if n % 2 else 'maintenance'}</INTITULE><ETAT_FICHE>Publiée</ETAT_FICHE>"
            f"<NOMENCLATURE_EUROPE><NIVEAU>NIV{3 + n % 5}</NIVEAU></NOMENCLATURE_EUROPE>"
            "<CODES_NSF><NSF><CODE>312</CODE><LIBELLE>Commerce, vente</LIBELLE></NSF></CODES_NSF>"
            "<CERTIFICATEURS><CERTIFICATEUR><SIRET_CERTIFICATEUR>12345678900011"
            "</SIRET_CERTIFICATEUR><NOM_CERTIFICATEUR>ORGANISME SYNTHETIQUE</NOM_CERTIFICATEUR>"
            "</CERTIFICATEUR></CERTIFICATEURS><PARTENAIRES><PARTENAIRE><NOM_PARTENAIRE>ECOLE "
            "SYNTHETIQUE</NOM_PARTENAIRE><SIRET_PARTENAIRE>98765432100017</SIRET_PARTENAIRE>"
            "<HABILITATION_PARTENAIRE>HABILITATION_ORGA_FORM</HABILITATION_PARTENAIRE>"
            "</PARTENAIRE></PARTENAIRES>"
            f"<ACTIVITES_VISEES>{_texte(n, 300)}</ACTIVITES_VISEES>"
            f"<CAPACITES_ATTESTEES>{_texte(n + 1, 200)}</CAPACITES_ATTESTEES>"
            "<SI_JURY_FC><ACTIF>Oui</ACTIF><COMPOSITION>Trois membres dont deux professionnels."
            "</COMPOSITION></SI_JURY_FC><DATE_FIN_ENREGISTREMENT>31/08/2029"
            "</DATE_FIN_ENREGISTREMENT><DATE_EFFET>01/09/2024</DATE_EFFET>"
            f"{blocs}<ACTIF>Oui</ACTIF>{correspondances}</FICHE>\n")


def generate(folder: Path, count: int) -> tuple[Path, Path]:
    """Write ``export.xml`` of ``count`` fiches and ``export.zip`` holding it."""
    xml = folder / f"export-{count}.xml"
    with xml.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<FICHES><VERSION_FLUX>4.1'
                  "</VERSION_FLUX>\n")
        for n in range(1, count + 1):
            out.write(_fiche(n))
        out.write("</FICHES>\n")
    archive = folder / f"export-{count}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.write(xml, f"export_fiches_RNCP_V4_1_{count}.xml")
    return xml, archive


_CHILD = """
import json, resource, sys, time
from pathlib import Path
t0 = time.perf_counter()
from certidocs.referentiel.importers import rncp
kind, path, arg = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
if kind == "fiche":
    found = rncp.trouver_fiche(path, arg)
    detail = f"{found.numero}, {len(found.blocs)} blocs"
elif kind == "chercher":
    res = rncp.chercher(path, arg)
    detail = f"{res.trouvees} trouvées sur {res.lues}"
else:
    detail = "import seul"
elapsed = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"secondes": elapsed, "pic_mio": peak, "detail": detail}))
"""


def measure(kind: str, path: Path, arg: str) -> dict[str, object]:
    """One step in a fresh interpreter: its time and its own peak resident memory."""
    out = subprocess.run([sys.executable, "-c", _CHILD, kind, str(path), arg],
                         capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(out.stdout)
    return result


def main() -> None:
    """Generate, measure, print the table (French, as the README quotes it)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fiches", type=int, default=FICHES)
    parser.add_argument("--garder", type=Path, default=None,
                        help="dossier où garder les exports générés")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.garder or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        xml, archive = generate(folder, args.fiches)
        small_xml, _ = generate(folder, max(args.fiches // 10, 1))
        made = time.perf_counter() - t0
        last = f"RNCP{args.fiches if args.fiches % 5 != 4 else args.fiches - 1}"
        rows = [
            ("Python + certidocs + lxml importés (référence)", measure("rien", xml, "")),
            (f"--fiche {last} (dernière), .xml", measure("fiche", xml, last)),
            (f"--fiche {last} (dernière), .zip", measure("fiche", archive, last)),
            ("chercher « maintenance », .xml", measure("chercher", xml, "maintenance")),
            (f"--fiche sur {max(args.fiches // 10, 1)} fiches, .xml",
             measure("fiche", small_xml, "RNCP1")),
        ]
        print(f"Export synthétique : {args.fiches} fiches, .xml {xml.stat().st_size / 2**20:.0f} "
              f"Mio, .zip {archive.stat().st_size / 2**20:.0f} Mio (générés en {made:.1f} s)")
        print(f"{'étape':<52} {'temps':>8} {'pic mémoire':>12}  détail")
        for label, r in rows:
            print(f"{label:<52} {r['secondes']:>7.1f}s {r['pic_mio']:>9.1f} Mio  {r['detail']}")


if __name__ == "__main__":
    main()
