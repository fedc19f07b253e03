"""Build samples/session-2026-12/session.xlsx, the demo session, as office staff would fill it.

Run: .venv/bin/python scripts/build_samples.py   (overwrites the sample workbook)
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from certidocs.referentiel import load_referentiel
from certidocs.session.creator import create_session
from certidocs.session.filler import fill_session

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "samples" / "session-2026-12"
D = dt.date
START = D(2026, 12, 15)

CANDIDATS = [
    ("001", "Madame", "Lefèvre", "", "Élodie", D(1990, 4, 3), "Nantes", "44109", "", "F",
     "Formation", "", "Présent"),
    ("002", "Monsieur", "N'Diaye", "", "Moussa", D(1985, 11, 20), "Dakar", "", "Sénégal", "M",
     "Formation", "", "Présent"),
    ("003", "Madame", "Dupont-Moreau", "Garnier", "Anne-Sophie", D(1995, 1, 31), "Lyon",
     "69123", "", "F", "Parcours mixte", "", "Présent"),
    ("004", "Monsieur", "O'Brien", "", "Kévin", D(1998, 9, 9), "Cork", "", "Irlande", "M",
     "Formation", "", "Présent"),
    ("005", "Madame", "Nguyễn", "", "Thị Lan", D(1993, 2, 17), "Paris", "75056", "", "F",
     "Formation", "", "Présent"),
    ("006", "Monsieur", "Bouchard", "", "Jean-Baptiste", D(1988, 6, 1), "Lille", "59350", "",
     "M", "Formation", "", "Absent"),
    ("007", "Monsieur", "Fontaine", "", "Lucas", D(1992, 7, 14), "Grenoble", "38185", "", "M",
     "Formation", "BC04;BC05", "Présent"),
    ("008", "Madame", "Martin", "", "Julie", D(1991, 3, 12), "Bordeaux", "33063", "", "F",
     "Formation", "", "Présent"),
    ("009", "Monsieur", "de La Tour d'Auvergne", "", "Hugo", D(1996, 12, 24), "Ajaccio",
     "2A004", "", "M", "Formation", "", "Présent"),
    ("010", "Madame", "Benali", "Roussel", "Leïla", D(1984, 5, 30), "Marseille", "13055", "",
     "F", "VAE", "BC01;BC02", "Présent"),
    ("011", "Monsieur", "Müller", "", "Stéphane", D(1987, 10, 2), "Strasbourg", "67482", "",
     "M", "Formation", "", "Présent"),
    ("012", "Madame", "Martin", "", "Julie", D(1999, 8, 21), "Rennes", "35238", "", "F",
     "Formation", "", "Présent"),
]

JURY = [
    {"Civilité": "Madame", "Nom": "Roux", "Prénom": "Anne", "Email": "anne.roux@certif-exemple.fr",
     "Fonction": "Responsable des certifications", "Organisme": "Certif Exemple",
     "Collège": "Représentant du certificateur", "Externe": "Non",
     "Années d'expérience dans le métier": 12, "Date de la session d'information": D(2026, 11, 5),
     "Président": "Non"},
    {"Civilité": "Monsieur", "Nom": "Durand", "Prénom": "Paul",
     "Email": "paul.durand@boutique-exemple.fr",
     "Fonction": "Directeur e-commerce", "Organisme": "Boutique Exemple",
     "Collège": "Professionnel", "Externe": "Oui", "Années d'expérience dans le métier": 9,
     "Date de la session d'information": D(2026, 11, 5), "Président": "Oui"},
    {"Civilité": "Madame", "Nom": "Leroy", "Prénom": "Inès",
     "Email": "ines.leroy@agence-exemple.fr",
     "Fonction": "Consultante SEO", "Organisme": "Agence Exemple", "Collège": "Professionnel",
     "Externe": "Oui", "Années d'expérience dans le métier": 6,
     "Date de fin d'exercice du métier": D(2024, 6, 30),
     "Date de la session d'information": D(2026, 11, 5), "Président": "Non"},
]


def main() -> None:
    """Write the sample session.xlsx from scratch."""
    shutil.rmtree(FOLDER, ignore_errors=True)
    create_session(FOLDER, load_referentiel(ROOT / "referentiels" / "CPECOM.yaml"))
    candidats = []
    for (num, civ, nom, usage, prenom, born, lieu, insee, pays, sexe, voie, blocs,
         presence) in CANDIDATS:
        slug = prenom.split()[0].lower().replace("é", "e").replace("ï", "i").replace("ễ", "e")
        candidats.append({
            "N° candidat": num, "Civilité": civ, "Nom de naissance": nom, "Nom d'usage": usage,
            "Prénom": prenom, "Date de naissance": born, "Lieu de naissance": lieu,
            "Email": f"{slug}.{num}@exemple.fr", "Adresse": f"{int(num) * 7} rue des Lilas",
            "Code postal": "69003", "Ville": "Lyon", "Voie d'accès": voie,
            "Blocs présentés": blocs, "Présence": presence,
            "Formateur ou tuteur": "Bruno Petit", "Sexe": sexe,
            "Code INSEE de la commune de naissance": insee, "Pays de naissance": pays})
    planning = [{"N° candidat": c["N° candidat"], "Épreuve": "Mise en situation professionnelle "
                 "et entretien avec le jury", "Date": START if i < 6 else D(2026, 12, 16),
                 "Heure": f"{9 + (i % 6)}:00", "Salle": "A12"}
                for i, c in enumerate(candidats)]
    fill_session(FOLDER / "session.xlsx", {
        "Intitulé": "Chef de Projet E-Commerce — session de décembre 2026",
        "Date de début": START, "Date de fin": D(2026, 12, 16), "Lieu": "Lyon",
        "Adresse": "Centre Exemple, 12 rue de la République, 69002 Lyon",
        "Responsable de session": "Claire Martin",
        "Date de délibération": D(2026, 12, 16),
        "Date d'envoi des convocations": D(2026, 11, 13),
    }, {
        "Candidats": candidats,
        "Jury": JURY,
        "Planning": planning,
        "Recours": [{"N° candidat": "004", "Date de réception": D(2026, 12, 20),
                     "Motifs": "Le candidat conteste la note de la mise en situation & demande "
                               "une nouvelle évaluation.",
                     "Décision": "Non recevable",
                     "Motif de la décision": "Le recours porte sur l'appréciation du jury, "
                                             "souveraine, et non sur la régularité de la session.",
                     "Date de la décision": D(2026, 12, 23)}],
        "Dysfonctionnements": [{"Date": START, "Description": "Panne du vidéoprojecteur en salle "
                                "A12 pendant 20 minutes.", "Action corrective": "Temps de "
                                "passage prolongé de 20 minutes pour le candidat concerné.",
                                "Responsable": "Claire Martin"}],
    })
    print(f"Écrit : {FOLDER / 'session.xlsx'}")


if __name__ == "__main__":
    main()
