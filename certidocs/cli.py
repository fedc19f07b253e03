"""The `certidocs` command line: the only module that imports click.

Each command calls one function of ``certidocs.api``, imported lazily so that ``--help`` stays
instant. Every CertidocsError becomes one French message on stderr and exit code 1, in one
place (``_Group.invoke``); usage errors exit 2 with click's messages translated to French.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from certidocs import __version__
from certidocs.errors import CertidocsError

# click's own messages, in French (click looks them up through gettext, with no French catalog).
_FR = {
    "Usage:": "Utilisation :",
    "Options": "Options",
    "Commands": "Commandes",
    "Positional arguments": "Arguments",
    "Show this message and exit.": "Afficher cette aide et quitter.",
    "Show the version and exit.": "Afficher la version et quitter.",
    "%(prog)s, version %(version)s": "%(prog)s, version %(version)s",
    "Error: {message}": "Erreur : {message}",
    "Try '{command} {option}' for help.": "Pour de l'aide : « {command} {option} ».",
    "No such option {name!r}.": "Option inconnue : {name}.",
    "No such command {name!r}.": "Commande inconnue : « {name} ».",
    "Missing argument": "Argument manquant",
    "Missing option": "Option manquante",
    "Missing parameter": "Paramètre manquant",
    "Missing command.": "Commande manquante.",
    "Missing {param_type}": "{param_type} manquant",
    "Invalid value: {message}": "Valeur invalide : {message}",
    "Invalid value for {param_hint}: {message}": "Valeur invalide pour {param_hint} : {message}",
    "Option {name!r} does not take a value.": "L'option {name} ne prend pas de valeur.",
    "Aborted!": "Abandon.",
    "file": "fichier",
    "directory": "dossier",
    "path": "chemin",
    "{name} {filename!r} does not exist.": "{name} « {filename} » introuvable.",
    "{name} {filename!r} is a file.": "{name} « {filename} » est un fichier.",
    "{name} {filename!r} is a directory.": "{name} « {filename} » est un dossier.",
    "{name} {filename!r} is not readable.": "{name} « {filename} » illisible.",
    "{name} {filename!r} is not writable.": "{name} « {filename} » non modifiable.",
    "Choose from:\n\t{choices}": "Choisir parmi :\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "« {value} » n'est pas un nombre valide.",
    "{value} is not in the range {range}.": "{value} n'est pas dans l'intervalle {range}.",
    "Option {name!r} requires an argument.": "L'option {name} attend une valeur.",
    "Got unexpected extra argument ({args})": "Argument en trop ({args})",
    "Got unexpected extra arguments ({args})": "Arguments en trop ({args})",
    "{value!r} is not {choice}.": "« {value} » n'est pas {choice}.",
    "{value!r} is not one of {choices}.": "« {value} » n'est pas parmi {choices}.",
    "{value!r} does not match the format {format}.": "« {value} » n'a pas le format {format}.",
    "{value!r} does not match the formats {formats}.":
        "« {value} » n'a aucun des formats {formats}.",
    "Did you mean {possibility}?": "Vouliez-vous dire {possibility} ?",
    "(Did you mean one of: {possibilities}?)": "(Vouliez-vous dire : {possibilities} ?)",
}


def _gettext(message: str) -> str:
    return _FR.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _gettext(singular if n == 1 else plural)


def _translate_click() -> None:
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.types

    for module in (click.core, click.decorators, click.exceptions, click.formatting,
                   click.parser, click.types):
        if hasattr(module, "_"):
            module._ = _gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _ngettext  # type: ignore[attr-defined]


_translate_click()

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)


class _Group(click.Group):
    """A group that turns library errors into one French message and exit 1."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("subcommand_metavar", "COMMANDE [ARGUMENTS]...")
        kwargs.setdefault("options_metavar", "[OPTIONS]")
        super().__init__(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CertidocsError as exc:
            _fail(f"Erreur : {exc}")
        except KeyboardInterrupt:
            _fail("Interrompu : aucun fichier n'a été laissé à moitié écrit.")
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as exc:  # a bug of ours: say so plainly, never a bare traceback
            if os.environ.get("CERTIDOCS_DEBUG"):
                raise
            _fail(f"Erreur interne de certidocs ({type(exc).__name__} : {exc}). Relancez avec "
                  "CERTIDOCS_DEBUG=1 pour le détail et signalez-la.")


_Group.group_class = _Group


@click.group(cls=_Group, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="certidocs")
def main() -> None:
    """certidocs : de la grille d'évaluation au certificat, dans Excel et Word.

    Une commande par étape d'une session de certification : référentiel, session, grilles
    des jurés, résultats, documents.
    """


@main.command("init")
@click.argument("dossier", type=click.Path(path_type=Path))
def init_cmd(dossier: Path) -> None:
    """Créer un espace de travail dans DOSSIER.

    L'espace reçoit un fichier de réglages commenté (certidocs.toml), les référentiels et les
    modèles Word par défaut, et un dossier sessions/. Un espace existant n'est jamais écrasé.
    """
    from certidocs import api

    ws = api.init(dossier)
    refs = sorted(p.stem for p in ws.referentiels_dir.glob("*.yaml"))
    click.echo(f"Espace créé : {ws.root}")
    click.echo(f"  réglages : {ws.root / 'certidocs.toml'}")
    click.echo(f"  référentiels ({len(refs)}) : {', '.join(refs)}")
    click.echo(f"  sessions : {ws.sessions_dir}")


@main.group("referentiel", cls=_Group)
def referentiel() -> None:
    """Vérifier, afficher et importer les référentiels (blocs, compétences, critères)."""


def _referentiel_path(fichier: str) -> Path:
    """A path as given, or the file of a référentiel code in the current workspace."""
    path = Path(fichier)
    if path.exists() or path.suffix.lower() in {".yaml", ".yml"} or os.sep in fichier:
        return path
    from certidocs.workspace import find_workspace

    return find_workspace(Path.cwd()).find_referentiel(fichier)


@referentiel.command("verifier")
@click.argument("fichier")
def referentiel_verifier(fichier: str) -> None:
    """Vérifier le référentiel FICHIER (un .yaml, ou le code d'un référentiel de l'espace).

    Tous les problèmes sont listés, chacun avec son chemin dans le YAML et sa ligne.
    Code de sortie 1 s'il y a au moins une erreur ; les avertissements seuls donnent 0.
    """
    from certidocs import api

    path = _referentiel_path(fichier)
    ref, problems = api.verifier_referentiel(path)
    errors = [p for p in problems if p.grave]
    warnings = [p for p in problems if not p.grave]
    for p in errors:
        click.echo(f"{path} : {p}", err=True)
    for p in warnings:
        click.echo(f"{path} : {p}", err=bool(errors))
    if ref is None:
        _fail(f"{path} : {len(errors)} erreur(s), référentiel refusé.")
    click.echo(f"{path} : référentiel valide — {ref.code}, {len(ref.blocs)} bloc(s), "
               f"{len(ref.competences)} compétence(s), {len(ref.criteres)} critère(s)"
               + (f", {len(warnings)} avertissement(s)" if warnings else "")
               + (f", {len(ref.a_verifier)} point(s) à vérifier" if ref.a_verifier else ""))


@referentiel.command("afficher")
@click.argument("fichier")
def referentiel_afficher(fichier: str) -> None:
    """Afficher un résumé lisible du référentiel FICHIER (un .yaml, ou un code).

    Blocs avec leurs compétences et le nombre de critères de chacune, règles de décision,
    de rattrapage, de convocation et de jury.
    """
    from certidocs import api

    click.echo(api.afficher_referentiel(_referentiel_path(fichier)))


@referentiel.command("importer")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--sortie", type=click.Path(path_type=Path),
              help="Fichier YAML à écrire (par défaut : referentiels/<code>.yaml de l'espace).")
@click.option("--fiche", metavar="RNCPxxxxx",
              help="Pour un export RNCP contenant plusieurs fiches : celle à importer.")
@click.option("--force", is_flag=True, help="Remplacer le fichier YAML s'il existe déjà.")
def referentiel_importer(source: Path, sortie: Path | None, fiche: str | None,
                         force: bool) -> None:
    """Importer un référentiel depuis SOURCE : tableau Word (.docx), export texte (.txt, .md)
    ou export RNCP de France Compétences (.xml).

    Écrit le YAML et affiche un résumé (blocs, compétences, critères) avec les points qu'une
    personne doit vérifier (codes générés, découpages ambigus, lignes recollées).
    """
    from certidocs import api

    click.echo(api.importer_referentiel(source, sortie=sortie, fiche=fiche, force=force))


@main.group("session", cls=_Group)
def session_group() -> None:
    """Préparer une session : le classeur session.xlsx et ses vérifications."""


@session_group.command("creer")
@click.argument("dossier", type=click.Path(path_type=Path))
@click.option("--referentiel", "code", required=True, metavar="CODE",
              help="Code du référentiel de la session (par exemple CPECOM).")
def session_creer(dossier: Path, code: str) -> None:
    """Créer DOSSIER/session.xlsx, prêt à remplir par le bureau.

    Six feuilles (Session, Candidats, Jury, Planning, Recours, Dysfonctionnements) avec
    en-têtes, listes déroulantes, dates au format JJ/MM/AAAA et mode d'emploi. Un
    session.xlsx existant n'est jamais remplacé.
    """
    from certidocs import api

    path = api.creer_session(dossier, code)
    click.echo(f"Classeur créé : {path}")
    click.echo("À remplir : feuilles Session, Candidats et Jury (Planning si besoin), puis "
               f"« certidocs session verifier {dossier} ».")


def _print_problems(problems: list[Any], label: str) -> None:
    errors = [p for p in problems if p.grave]
    warnings = [p for p in problems if not p.grave]
    for p in errors:
        click.echo(f"erreur : {p}", err=True)
    for p in warnings:
        click.echo(f"attention : {p.lieu} : {p.message}", err=bool(errors))
    if errors:
        _fail(f"{label} : {len(errors)} erreur(s), {len(warnings)} avertissement(s) ; "
              "corrigez les cellules indiquées puis relancez.")
    click.echo(f"{label} : aucune erreur" + (f", {len(warnings)} avertissement(s)."
                                            if warnings else "."))


@session_group.command("verifier")
@click.argument("dossier", type=click.Path(path_type=Path))
def session_verifier(dossier: Path) -> None:
    """Vérifier DOSSIER/session.xlsx avant l'examen.

    Champs obligatoires, numéros en double, dates et adresses, blocs inconnus, délai des
    convocations, composition du jury et éligibilité des jurés, conflits d'intérêts,
    droits au rattrapage d'après le registre. Chaque problème est donné avec sa cellule
    (Feuille!Cellule). Code de sortie 1 s'il y a une erreur ; les avertissements seuls
    donnent 0.
    """
    from certidocs import api

    _print_problems(api.verifier_session(dossier), str(dossier / "session.xlsx"))


@main.group("registre", cls=_Group)
def registre_group() -> None:
    """Consulter le registre : historique des candidats, certificats, export Excel."""


@registre_group.command("candidat")
@click.argument("nom")
@click.option("--espace", type=click.Path(path_type=Path), default=".",
              help="Dossier de l'espace de travail (par défaut : le dossier courant).")
def registre_candidat(nom: str, espace: Path) -> None:
    """Afficher l'historique des candidats dont le nom contient NOM.

    Passages (session, décision), blocs capitalisés et certificats. Accents et majuscules
    sont indifférents.
    """
    from certidocs import api

    people = api.historique_candidat(nom, espace)
    if not people:
        _fail(f"Aucun candidat « {nom} » dans le registre.")
    for p in people:
        usage = f" ({p['nom_usage']})" if p.get("nom_usage") else ""
        born = p.get("date_naissance") or "date de naissance inconnue"
        click.echo(f"{p['nom_naissance']}{usage} {p['prenom']}, né(e) le {born}")
        for s in p["passages"]:  # type: ignore[attr-defined]
            click.echo(f"  {s['date_session'] or '?'}  {s['session']}  {s['referentiel']}  "
                       f"n° {s['numero']}  {s['decision']}")
        for b in p["blocs"]:  # type: ignore[attr-defined]
            click.echo(f"  bloc capitalisé {b['referentiel']} {b['bloc']} le "
                       f"{b['date_validation']}")
        for k in p["certificats"]:  # type: ignore[attr-defined]
            click.echo(f"  certificat {k['numero']} délivré le {k['date_delivrance']}")


@registre_group.command("exporter")
@click.option("-o", "--sortie", type=click.Path(path_type=Path), default=Path("registre.xlsx"),
              show_default=True, help="Classeur à écrire.")
@click.option("--espace", type=click.Path(path_type=Path), default=".",
              help="Dossier de l'espace de travail (par défaut : le dossier courant).")
def registre_exporter(sortie: Path, espace: Path) -> None:
    """Écrire tout le registre dans un classeur Excel, une feuille par table."""
    from certidocs import api

    click.echo(f"Registre exporté : {api.exporter_registre(sortie, espace)}")
