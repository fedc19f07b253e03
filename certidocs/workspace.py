"""Workspaces: a folder with certidocs.toml, référentiels, templates, sessions and the register.

The repository itself is a workspace: its ``referentiels/`` and ``templates/`` are the defaults
that ``certidocs init`` copies and that any workspace falls back on.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certidocs.errors import EspaceError, ReferentielError

CONFIG_NAME = "certidocs.toml"
SECRET_NAME = ".secret-verification"
DEFAULTS = Path(__file__).resolve().parent.parent

CONFIG_TEMPLATE = """\
# Réglages de l'espace certidocs. Les lignes qui commencent par # sont des commentaires.
# Chaque réglage a une valeur par défaut : rien n'est à remplir avant un premier essai.

[organisme]
# Le nom imprimé en tête des documents et sur les certificats.
nom = "Organisme certificateur"
# Adresse sur une ligne, reprise dans les courriers.
adresse = ""
# Ville des courriers (« Fait à <ville>, le … ») ; vide : le lieu de la session.
ville = ""
# Une image PNG ou JPEG, chemin relatif à ce dossier (laisser vide : pas de logo).
logo = ""
# Qui contacter : imprimés dans les courriers (convocations, résultats).
telephone = ""
email = ""

[signataire]
# Qui signe les certificats et les notifications.
nom = ""
fonction = "Le directeur"

[certificats]
# Adresse de la page où l'on vérifie un certificat (imprimée avec le QR code).
url_verification = ""

[recours]
# Voies de recours, rappelées dans le courrier de résultats.
# Délai, en jours après la notification, pour former un recours (0 : non réglé, signalé).
delai_jours = 0
# À qui et où l'adresser ; vides : l'organisme et son adresse.
destinataire = ""
adresse = ""

[grilles]
# Mot de passe de protection des grilles des jurés. Vide : un mot de passe est tiré au hasard
# pour chaque session et gardé dans le registre, jamais dans les grilles.
mot_de_passe = ""

[chemins]
# Dossiers de l'espace, relatifs à ce fichier.
referentiels = "referentiels"
templates = "templates"
sessions = "sessions"

[accrochage]
# Déclaration des titulaires à la Caisse des Dépôts (certidocs accrochage exporter).
# Rien n'est à remplir avant d'en avoir besoin ; l'export dit quel réglage manque.
# Identifiant client (8 caractères) attribué par la Caisse des Dépôts à qui dépose le flux.
id_client_emetteur = ""
# Identifiant client (8 caractères) du certificateur ; vide : le même que ci-dessus.
id_client_certificateur = ""
# Numéro du contrat du certificateur avec la Caisse des Dépôts (20 caractères au plus).
id_contrat = ""
# Qui dépose : CERTIFICATEUR ou TIERS_CONFIANCE.
nature_deposant = "CERTIFICATEUR"
# Modalité de passage des examens : EN_PRESENTIEL, A_DISTANCE ou MIXTE (vide : non déclarée).
modalite_passage_examen = "EN_PRESENTIEL"
# Ce que recouvrent les voies d'accès « Formation » et « Parcours mixte » de session.xlsx
# (vide : non précisé). Valeurs : FORMATION_INITIALE_HORS_APPRENTISSAGE,
# FORMATION_INITIALE_APPRENTISSAGE, FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION,
# FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION, VAE, EQUIVALENCE_DIPLOME_ETRANGER,
# CANDIDAT_LIBRE. La voie « VAE » est toujours déclarée VAE.
modalite_acces_formation = ""
modalite_acces_parcours_mixte = ""
# Pour la VAE : CONGES_VAE ou VAE_CLASSIQUE (vide : non précisé).
voie_acces_vae = ""
# Durée de validité de la certification en années (0 : sans limite).
duree_validite_annees = 0
# Dossier où les flux sont écrits, relatif à ce fichier.
dossier = "accrochage"

[centre]
# Le centre d'examen de cet espace, sur un registre partagé par un réseau (vide : le
# certificateur seul). Son SIRET est comparé aux partenaires de la fiche RNCP importée.
nom = ""
siret = ""

[registre]
# Vide : le registre est le fichier registre.sqlite de ce dossier (rien à installer).
# Un réseau partage un registre PostgreSQL : url = "postgresql://compte@serveur/base".
# Le mot de passe n'est jamais écrit ici : il est lu dans la variable d'environnement
# CERTIDOCS_REGISTRE_MOT_DE_PASSE (ou celle que nomme mot_de_passe_env).
url = ""
"""


@dataclass(frozen=True)
class Workspace:
    """A workspace folder and its settings (certidocs.toml, parsed)."""

    root: Path
    config: dict[str, Any] = field(default_factory=dict)

    def _dir(self, key: str) -> Path:
        value = (self.config.get("chemins") or {}).get(key, key)
        return self.root / str(value)

    @property
    def referentiels_dir(self) -> Path:
        """Where this workspace's référentiels are."""
        return self._dir("referentiels")

    @property
    def templates_dir(self) -> Path:
        """Where this workspace's Word templates are."""
        return self._dir("templates")

    @property
    def sessions_dir(self) -> Path:
        """Where sessions are created by default."""
        return self._dir("sessions")

    @property
    def registre_path(self) -> Path:
        """The SQLite register of this workspace."""
        return self.root / "registre.sqlite"

    def setting(self, section: str, key: str, default: Any = None) -> Any:
        """One value of certidocs.toml, or ``default``."""
        return (self.config.get(section) or {}).get(key, default)

    def find_referentiel(self, code: str) -> Path:
        """The YAML file of the référentiel ``code``: this workspace's first, then the defaults.

        The code comes from session.xlsx: anything but a bare file name (« ../../x ») is
        refused, so that a session can only name a référentiel of these folders.
        """
        if not code or code in (".", "..") or any(c in code for c in "/\\:\x00"):
            raise ReferentielError(f"code de référentiel « {code} » invalide : lettres, chiffres, "
                                   "« . », « - » ou « _ » seulement (pas de chemin)")
        dirs = [self.referentiels_dir]
        if self.referentiels_dir != (DEFAULTS / "referentiels"):
            dirs.append(DEFAULTS / "referentiels")
        for folder in dirs:
            candidate = folder / f"{code}.yaml"
            if candidate.is_file():
                return candidate
        known = sorted({p.stem for d in dirs if d.is_dir() for p in d.glob("*.yaml")})
        raise ReferentielError(
            f"référentiel « {code} » introuvable dans {self.referentiels_dir} "
            f"(référentiels connus : {', '.join(known) or 'aucun'})"
        )


def load_config(path: Path) -> dict[str, Any]:
    """certidocs.toml parsed; EspaceError with the line when it is not valid TOML."""
    import tomllib

    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise EspaceError(f"{path} : réglages illisibles ({exc})") from None
    except UnicodeDecodeError as exc:
        # A Notepad or Latin-1 save: TOML is UTF-8 only, and tomllib says so in English.
        with path.open("rb") as fh:
            line = fh.read()[: exc.start].count(b"\n") + 1
        raise EspaceError(f"{path} : ligne {line} : le fichier n'est pas encodé en UTF-8 ; "
                          "enregistrez-le en UTF-8 (dans le Bloc-notes : « Enregistrer "
                          "sous », codage UTF-8)") from None
    except OSError as exc:
        raise EspaceError(f"{path} : lecture impossible ({exc.strerror})") from None


def find_workspace(start: Path) -> Workspace:
    """The workspace containing ``start`` (its nearest parent with certidocs.toml).

    Outside any workspace, the defaults (the repository itself) serve, so that nothing has to
    be configured before a first try.
    """
    here = start.resolve()
    for folder in (here, *here.parents):
        config = folder / CONFIG_NAME
        if config.is_file():
            return Workspace(folder, load_config(config))
    return Workspace(DEFAULTS, {})


def init_workspace(dossier: Path) -> Workspace:
    """Create a workspace in ``dossier`` with the default référentiels and templates.

    Refuses an existing workspace or a non-empty folder; builds everything in a temporary
    sibling folder first, so that an interruption leaves nothing half-made.
    """
    if (dossier / CONFIG_NAME).exists():
        raise EspaceError(f"{dossier} : c'est déjà un espace certidocs ({CONFIG_NAME} existe) ; "
                          "rien n'a été modifié")
    if dossier.exists() and (not dossier.is_dir() or any(dossier.iterdir())):
        raise EspaceError(f"{dossier} : ce dossier existe et n'est pas vide ; choisissez un "
                          "nouveau dossier")
    parent = dossier.resolve().parent
    if not parent.is_dir():
        raise EspaceError(f"{parent} : dossier introuvable")
    tmp = Path(tempfile.mkdtemp(prefix=f".{dossier.name}.", dir=parent))
    try:
        (tmp / CONFIG_NAME).write_text(CONFIG_TEMPLATE, encoding="utf-8")
        (tmp / "referentiels").mkdir()
        for src in sorted((DEFAULTS / "referentiels").glob("*.yaml")):
            shutil.copy2(src, tmp / "referentiels" / src.name)
        fmt = DEFAULTS / "referentiels" / "FORMAT.md"
        if fmt.is_file():
            shutil.copy2(fmt, tmp / "referentiels" / fmt.name)
        templates = DEFAULTS / "templates"
        if templates.is_dir():
            shutil.copytree(templates, tmp / "templates")
        else:
            (tmp / "templates").mkdir()
        (tmp / "sessions").mkdir()
        write_secret(tmp / SECRET_NAME)
        from certidocs.signature import KEY_NAME, create_private_key

        create_private_key(tmp / KEY_NAME)
        tmp.chmod(0o755)
        if dossier.exists():
            dossier.rmdir()
        os.replace(tmp, dossier)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Workspace(dossier.resolve(), load_config(dossier / CONFIG_NAME))


def write_secret(path: Path) -> None:
    """Create the workspace secret used to sign certificates, readable by its owner only.

    Written to a temporary file, flushed, then linked into place: a crash leaves either no
    secret or a complete one, never an empty file; an existing secret is never replaced
    (FileExistsError).
    """
    from certidocs.signature import write_private_file

    write_private_file(path, (secrets.token_hex(32) + "\n").encode("ascii"))


def read_secret(ws: Workspace) -> bytes:
    """The secret of this workspace's verification codes (HMAC), created by ``init``.

    Never re-created silently: every code already printed depends on it. Missing → EspaceError
    naming the file and what to do.
    """
    path = ws.root / SECRET_NAME
    if not path.exists():
        raise EspaceError(
            f"{path} introuvable : ce secret calcule les codes de vérification imprimés sur les "
            "certificats ; ceux déjà délivrés en dépendent. Restaurez-le depuis votre "
            "sauvegarde. Si cet espace n'a encore délivré aucun certificat (espace créé avant "
            "cette version), créez-le avec « certidocs registre creer-cles ».")
    try:
        value = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise EspaceError(f"{path} : secret de vérification illisible ({exc})") from None
    if len(value) < 32:
        raise EspaceError(f"{path} : secret de vérification vide ou tronqué ; restaurez-le "
                          "depuis votre sauvegarde (s'il n'a signé aucun certificat, "
                          "supprimez-le puis lancez « certidocs registre creer-cles »)")
    return value.encode("ascii")
