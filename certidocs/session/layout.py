"""The layout of session.xlsx: sheets, columns, drop-downs. Creator and reader both use it."""

from __future__ import annotations

from dataclasses import dataclass

from certidocs.model import CIVILITES, COLLEGES, DECISIONS_RECOURS, PRESENCES, VOIES_ACCES

OUI_NON = ("Oui", "Non")
SEXES = ("F", "M")


@dataclass(frozen=True)
class Colonne:
    """One column of a table sheet: its header, the field it fills, how it is typed."""

    titre: str
    champ: str
    kind: str = "text"  # text, date, int, number, bool, choice, email, list
    obligatoire: bool = False
    choix: tuple[str, ...] = ()
    largeur: int = 16
    aide: str = ""


@dataclass(frozen=True)
class Feuille:
    """A table sheet: header in row 1, one record per row from row 2."""

    nom: str
    colonnes: tuple[Colonne, ...]

    def colonne(self, champ: str) -> Colonne:
        """The column that fills ``champ``."""
        for c in self.colonnes:
            if c.champ == champ:
                return c
        raise KeyError(champ)


SESSION = "Session"

# Session sheet: label in column A, value in column B, one row each, from row 2.
SESSION_CHAMPS: tuple[Colonne, ...] = (
    Colonne("Référentiel (code)", "referentiel", obligatoire=True,
            aide="Le code du référentiel, par exemple CPECOM"),
    Colonne("Intitulé", "intitule", aide="L'intitulé de la session, repris dans les documents"),
    Colonne("Date de début", "date_debut", "date", obligatoire=True),
    Colonne("Date de fin", "date_fin", "date"),
    Colonne("Lieu", "lieu", obligatoire=True, aide="La ville où se tient la session"),
    Colonne("Adresse", "adresse", aide="L'adresse complète, reprise dans les convocations"),
    Colonne("Responsable de session", "responsable", obligatoire=True),
    Colonne("Date de délibération", "date_deliberation", "date"),
    Colonne("Date d'envoi des convocations", "date_envoi_convocations", "date"),
)

CANDIDATS = Feuille("Candidats", (
    Colonne("N° candidat", "numero", obligatoire=True, largeur=12),
    Colonne("Civilité", "civilite", "choice", True, CIVILITES, 11),
    Colonne("Nom de naissance", "nom_naissance", obligatoire=True, largeur=20),
    Colonne("Nom d'usage", "nom_usage", largeur=18),
    Colonne("Prénom", "prenom", obligatoire=True, largeur=16),
    Colonne("Date de naissance", "date_naissance", "date", True, largeur=14),
    Colonne("Lieu de naissance", "lieu_naissance", largeur=18),
    Colonne("Email", "email", "email", largeur=28),
    Colonne("Adresse", "adresse", largeur=28),
    Colonne("Code postal", "code_postal", largeur=11),
    Colonne("Ville", "ville", largeur=16),
    Colonne("Voie d'accès", "voie_acces", "choice", True, VOIES_ACCES, 15),
    Colonne("Blocs présentés", "blocs_presentes", "list", largeur=18,
            aide="Codes des blocs séparés par ; — vide : tous les blocs"),
    Colonne("Présence", "presence", "choice", False, PRESENCES, 11,
            aide="À remplir le jour de l'épreuve"),
    Colonne("Formateur ou tuteur", "formateur_tuteur", largeur=22,
            aide="Prénom et nom : ce juré ne pourra pas évaluer ce candidat"),
    # Needed to declare certificate holders to the Caisse des Dépôts (accrochage).
    Colonne("Sexe", "sexe", "choice", False, SEXES, 8, aide="F ou M (déclaration à la Caisse "
            "des Dépôts)"),
    Colonne("Code INSEE de la commune de naissance", "code_insee_naissance", largeur=14,
            aide="Né(e) en France : code INSEE de la commune (5 caractères, ex. 69123)"),
    Colonne("Pays de naissance", "pays_naissance", largeur=16,
            aide="Né(e) hors de France : le pays (nom ou code à 3 chiffres de l'INSEE)"),
))

JURY = Feuille("Jury", (
    # Added after the first files were sent: optional, so a sheet without it still reads.
    Colonne("Civilité", "civilite", "choice", False, CIVILITES, 11,
            aide="Madame ou Monsieur : « Présidente du jury », « Madame, » dans les courriers"),
    Colonne("Nom", "nom", obligatoire=True, largeur=18),
    Colonne("Prénom", "prenom", obligatoire=True, largeur=16),
    Colonne("Email", "email", "email", largeur=28),
    Colonne("Fonction", "fonction", largeur=22),
    Colonne("Organisme", "organisme", largeur=22),
    Colonne("Collège", "college", "choice", True, COLLEGES, 28),
    Colonne("Externe", "externe", "bool", True, OUI_NON, 9,
            aide="Oui : extérieur à l'école ou au centre de formation"),
    Colonne("Années d'expérience dans le métier", "experience_annees", "number", True, largeur=14),
    Colonne("Date de fin d'exercice du métier", "date_fin_exercice", "date", largeur=16,
            aide="Vide si le juré exerce toujours le métier"),
    Colonne("Date de la session d'information", "date_session_information", "date", largeur=16),
    Colonne("Président", "president", "bool", False, OUI_NON, 10),
))

PLANNING = Feuille("Planning", (
    Colonne("N° candidat", "numero", obligatoire=True, largeur=12),
    Colonne("Épreuve", "epreuve", obligatoire=True, largeur=34),
    Colonne("Date", "date", "date", True, largeur=12),
    Colonne("Heure", "heure", "time", largeur=8),
    Colonne("Salle", "salle", largeur=14),
))

RECOURS = Feuille("Recours", (
    Colonne("N° candidat", "numero", obligatoire=True, largeur=12),
    Colonne("Date de réception", "date_reception", "date", True, largeur=14),
    Colonne("Motifs", "motifs", obligatoire=True, largeur=40),
    Colonne("Décision", "decision", "choice", False, DECISIONS_RECOURS, 15),
    Colonne("Motif de la décision", "motif_decision", largeur=40),
    Colonne("Date de la décision", "date_decision", "date", largeur=14),
))

DYSFONCTIONNEMENTS = Feuille("Dysfonctionnements", (
    Colonne("Date", "date", "date", True, largeur=12),
    Colonne("Description", "description", obligatoire=True, largeur=45),
    Colonne("Action corrective", "action_corrective", largeur=40),
    Colonne("Responsable", "responsable", largeur=20),
))

TABLES = (CANDIDATS, JURY, PLANNING, RECOURS, DYSFONCTIONNEMENTS)
SHEETS = (SESSION, *(t.nom for t in TABLES))
"""The sheets office staff see, in order (the very hidden ``META_SHEET`` comes after)."""

META_SHEET = "_certidocs"
"""The very hidden sheet of session.xlsx holding the session's identifier (column A key,
column B value)."""
META_IDENTIFIANT = "identifiant_session"
META_CREE_LE = "cree_le"
ID_FILE = ".certidocs-session"
"""File of the session folder holding the identifier of a session whose session.xlsx predates
identifiers (created once, by ``certidocs grilles``)."""

INSTRUCTIONS = (
    "Mode d'emploi",
    "1. Remplissez la colonne B de cette feuille : le code du référentiel est déjà indiqué.",
    "2. Une ligne par candidat dans « Candidats », par juré dans « Jury ».",
    "3. Les dates s'écrivent JJ/MM/AAAA ; les listes déroulantes donnent les valeurs permises.",
    "4. « Blocs présentés » : les codes séparés par ; (vide : tous les blocs).",
    "5. « Présence » se remplit le jour de l'épreuve.",
    "6. Ne renommez ni les feuilles ni les colonnes : certidocs les lit par leur nom.",
    "7. Vérifiez avec : certidocs session verifier DOSSIER (chaque problème est donné avec sa "
    "cellule).",
)
