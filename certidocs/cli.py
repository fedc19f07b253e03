"""The `certidocs` command line: the only module that imports click.

Each command calls one function of ``certidocs.api``, imported lazily so that ``--help`` stays
instant. Every CertidocsError becomes one French message on stderr and exit code 1, in one
place (``_Group.invoke``); usage errors exit 2 with click's messages translated to French.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import click

from certidocs import __version__
from certidocs.errors import CertidocsError

# click's own messages, in French (click looks them up through gettext, with no French catalog).
_FR = {
    "Usage:": "Utilisation :",
    # click writes « heading: »; the space makes it « Options : », as French is written.
    "Options": "Options ",
    "Commands": "Commandes ",
    "Positional arguments": "Arguments ",
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
    "required": "obligatoire",
    "default: {default}": "par défaut : {default}",
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
        sys.unraisablehook = _quiet_unraisable
        try:
            return super().invoke(ctx)
        except CertidocsError as exc:
            from certidocs.api import message_erreur

            _fail(message_erreur(exc))
        except KeyboardInterrupt:
            _fail("Interrompu : aucun fichier n'a été laissé à moitié écrit.")
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as exc:  # a bug of ours: say so plainly, never a bare traceback
            if os.environ.get("CERTIDOCS_DEBUG"):
                raise
            from certidocs.api import message_erreur

            _fail(message_erreur(exc))


_Group.group_class = _Group


def _quiet_unraisable(unraisable: Any) -> None:
    """A disk or folder failure met while Python tidies up (a file object closed by the garbage
    collector on a full disk) is not worth « Exception ignored … Traceback »: the same failure
    is reported once, in French, by the command (see certidocs.systeme)."""
    from certidocs.systeme import message_systeme

    if os.environ.get("CERTIDOCS_DEBUG") or message_systeme(unraisable.exc_value) is None:
        sys.__unraisablehook__(unraisable)


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
    errors, warnings = _echo_problems(problems, f"{path} : ")
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
              help="Pour un export RNCP contenant plusieurs fiches : celle à importer "
                   "(RNCP35340, ou RS5000 pour le Répertoire spécifique).")
@click.option("--export-rncp", "export_rncp", type=click.Path(path_type=Path), metavar="EXPORT",
              help="Combiner SOURCE (le référentiel Word ou texte du certificateur) avec la "
                   "fiche --fiche de cet export RNCP (.zip ou .xml) : codes et intitulés "
                   "officiels des blocs, niveau, dates ; critères du document.")
@click.option("--force", is_flag=True, help="Remplacer le fichier YAML s'il existe déjà.")
def referentiel_importer(source: Path, sortie: Path | None, fiche: str | None,
                         export_rncp: Path | None, force: bool) -> None:
    """Importer un référentiel depuis SOURCE : tableau Word (.docx), export texte (.txt, .md)
    ou export RNCP de France Compétences (.xml, ou le .zip téléchargé).

    Écrit le YAML et affiche un résumé (blocs, compétences, critères) avec les points qu'une
    personne doit vérifier (codes générés, découpages ambigus, lignes recollées, blocs non
    rapprochés de la fiche officielle).
    """
    from certidocs import api

    click.echo(api.importer_referentiel(source, sortie=sortie, fiche=fiche, force=force,
                                        export_rncp=export_rncp))


@referentiel.command("chercher")
@click.argument("texte")
@click.argument("export", type=click.Path(path_type=Path))
def referentiel_chercher(texte: str, export: Path) -> None:
    """Chercher dans l'export RNCP de France Compétences (EXPORT, le .zip téléchargé ou le
    .xml qu'il contient) les fiches dont le numéro ou l'intitulé contient TEXTE.

    Chaque fiche trouvée est listée avec son numéro (RNCP… ou RS…), son intitulé, son niveau
    et son état ; l'export complet est lu au fil de l'eau, sans être chargé en mémoire.
    """
    from certidocs import api
    from certidocs.referentiel.importers.rncp import MAX_RESULTATS, fr_date

    found = api.chercher_fiches(texte, export)
    if not found.trouvees:
        click.echo(f"Aucune fiche ne contient « {texte} » ({found.lues} fiche(s) lue(s)).")
        return
    click.echo(f"{found.trouvees} fiche(s) sur {found.lues} contiennent « {texte} » :")
    for f in found.fiches:
        niveau = f"niveau {f.niveau}" if f.niveau else "sans niveau"
        if f.repertoire == "RS":
            niveau = "Répertoire spécifique (RS), " + niveau
        etat = f.etat or "état inconnu"
        if f.actif is False:
            etat += ", inactive"
        fin = (f", enregistrée jusqu'au {fr_date(f.date_fin_enregistrement)}"
               if f.date_fin_enregistrement else "")
        click.echo(f"  {f.numero:<10} {f.intitule} — {niveau}, {etat}{fin}")
    if found.trouvees > len(found.fiches):
        click.echo(f"  … et {found.trouvees - len(found.fiches)} autre(s) (seules les "
                   f"{MAX_RESULTATS} premières sont listées : précisez le texte).")


@referentiel.command("mettre-a-jour")
@click.argument("code")
@click.argument("export", type=click.Path(path_type=Path))
def referentiel_mettre_a_jour(code: str, export: Path) -> None:
    """Comparer le référentiel CODE (un code de l'espace ou un .yaml) avec sa fiche dans un
    export RNCP plus récent (EXPORT, .zip ou .xml).

    Liste ce que France Compétences a changé : blocs ajoutés, renommés ou retirés,
    enregistrement renouvelé ou échu, intitulé, niveau, fiche remplacée. Le référentiel n'est
    pas modifié : reportez-y les changements, puis « certidocs referentiel verifier ».
    """
    from certidocs import api

    path = _referentiel_path(code)
    report = api.mettre_a_jour_referentiel(path, export)
    if not report.changements:
        click.echo(f"{path} : aucun changement de la fiche {report.fiche} dans {export}.")
        return
    click.echo(f"{path} : {len(report.changements)} changement(s) de la fiche {report.fiche} "
               f"dans {export} :")
    for change in report.changements:
        click.echo(f"  - {change.texte}")
    click.echo(f"Le référentiel n'a pas été modifié : reportez ces changements dans {path}, "
               "puis « certidocs referentiel verifier ».")


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


def _echo_problems(problems: list[Any], prefix: str = "") -> tuple[list[Any], list[Any]]:
    """Print errors (stderr) then warnings (stdout, or stderr next to errors); returns both."""
    errors = [p for p in problems if p.grave]
    warnings = [p for p in problems if not p.grave]
    for p in errors:
        click.echo(f"{prefix}erreur : {p}", err=True)
    for p in warnings:
        click.echo(f"{prefix}{p}", err=bool(errors))
    return errors, warnings


def _print_problems(problems: list[Any], label: str) -> None:
    errors, warnings = _echo_problems(problems)
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
        born = _jour(p.get("date_naissance")) or "date de naissance inconnue"
        click.echo(f"{p['nom_naissance']}{usage} {p['prenom']}, né(e) le {born}")
        for s in p["passages"]:  # type: ignore[attr-defined]
            click.echo(f"  {_jour(s['date_session']) or '?'}  {s['session']}  "
                       f"{s['referentiel']}  n° {s['numero']}  {s['decision']}")
        for r in p.get("revisions", []):  # type: ignore[attr-defined]
            click.echo(f"  décision révisée le {_jour(r['date_revision'])} ({r['session']}, "
                       f"n° {r['numero']}) : {r['ancienne_decision']} → "
                       f"{r['nouvelle_decision']} ; motif : {r['motif']}")
        for b in p["blocs"]:  # type: ignore[attr-defined]
            click.echo(f"  bloc capitalisé {b['referentiel']} {b['bloc']} le "
                       f"{_jour(b['date_validation'])}")
        for k in p["certificats"]:  # type: ignore[attr-defined]
            line = f"  certificat {k['numero']} délivré le {_jour(k['date_delivrance'])}"
            if k.get("revoque_le"):
                line += f", RÉVOQUÉ le {_jour(k['revoque_le'])} : {k['motif_revocation']}"
            click.echo(line)


def _jour(value: Any) -> str:
    """An ISO date of the register as people write it: 14/01/2027 (empty when unknown)."""
    from certidocs.registre import date_fr

    return date_fr(value)


@registre_group.command("exporter")
@click.option("-o", "--sortie", type=click.Path(path_type=Path), default=Path("registre.xlsx"),
              show_default=True, help="Classeur à écrire.")
@click.option("--espace", type=click.Path(path_type=Path), default=".",
              help="Dossier de l'espace de travail (par défaut : le dossier courant).")
def registre_exporter(sortie: Path, espace: Path) -> None:
    """Écrire tout le registre dans un classeur Excel, une feuille par table."""
    from certidocs import api

    click.echo(f"Registre exporté : {api.exporter_registre(sortie, espace)}")


class _Progress:
    """A click progress bar shown only for steps long enough to need one (over a second)."""

    def __init__(self, label: str) -> None:
        import time

        self.label, self.start = label, time.monotonic()
        self.bar: Any = None
        self._time = time.monotonic

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if self._time() - self.start < 1.0 or done >= total:
                return
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
            self.bar.update(done)
            return
        self.bar.update(1)
        if done >= total:
            self.bar.__exit__(None, None, None)
            self.bar = None  # a next stage gets its own bar


@main.command("grilles")
@click.argument("dossier", type=click.Path(path_type=Path))
def grilles_cmd(dossier: Path) -> None:
    """Créer les grilles des jurés : un classeur Excel protégé par candidat, dans
    DOSSIER/grilles/.

    Les jurés y choisissent « Acquis » ou « Non acquis » pour chaque critère. Une grille qui
    contient déjà une saisie n'est jamais remplacée ; relancer la commande ajoute les grilles
    des nouveaux candidats.
    """
    from certidocs import api

    report = api.grilles(dossier, _Progress("Grilles"))
    click.echo(f"{len(report.creees)} grille(s) créée(s) dans {dossier / 'grilles'}")
    if report.renouvelees:
        click.echo(f"{len(report.renouvelees)} grille(s) encore vierge(s) régénérée(s)")
    if report.conservees:
        click.echo(f"{len(report.conservees)} grille(s) déjà remplie(s) conservée(s) telles "
                   "quelles :")
        for path in report.conservees:
            click.echo(f"  - {path.name}")
    for c in report.sans_grille:
        click.echo(f"pas de grille pour {c.numero} {c.prenom} {c.nom} ({c.presence})")
    if not (dossier / "documents" / "convocation_candidat").is_dir():
        click.echo(f"Suite : les convocations et la feuille d'émargement, avec « certidocs "
                   f"documents {dossier} » (ou « certidocs lancer {dossier} »)")


@main.command("deposer")
@click.argument("dossier", type=click.Path(path_type=Path))
@click.argument("fichiers", nargs=-1, required=True,
                type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--remplacer", is_flag=True,
              help="Remplacer une grille déjà en place qui contient une autre saisie.")
def deposer_cmd(dossier: Path, fichiers: tuple[Path, ...], remplacer: bool) -> None:
    """Déposer dans la session DOSSIER les fichiers rendus : session.xlsx rempli par le
    bureau, grilles remplies par les jurés.

    Chaque fichier est contrôlé avant d'être rangé : une grille doit être celle d'un candidat
    de la session (reconnue à son nom ou à son contenu) et va dans DOSSIER/grilles/ ; une
    grille qui contient déjà une autre saisie n'est remplacée qu'avec --remplacer. Code de
    sortie 1 si un fichier a été refusé.
    """
    from certidocs import api

    refused = 0
    grids = [f for f in fichiers if f.name.lower() != "session.xlsx"]
    for f in fichiers:
        if f.name.lower() == "session.xlsx":
            problems = api.deposer_session(dossier, f.name, f.read_bytes())
            errors, warnings = _echo_problems(problems)
            click.echo(f"session.xlsx déposé dans {dossier} : {len(errors)} erreur(s), "
                       f"{len(warnings)} avertissement(s).")
    for depot in api.deposer_grilles(dossier, [(f.name, f.read_bytes()) for f in grids],
                                     remplacer) if grids else []:
        if not depot.place:
            refused += 1
            click.echo(f"refusé : {depot.refus}", err=True)
            continue
        verb = "remplacée" if depot.remplace else "rangée"
        click.echo(f"{depot.fichier} : grille de {depot.candidat} {verb} dans "
                   f"{depot.destination}")
        for a in depot.anomalies:
            click.echo(f"  anomalie : {a.cellule} : {a.message}")
    if refused:
        _fail(f"{refused} fichier(s) refusé(s), non déposé(s).")


@main.command("resultats")
@click.argument("dossier", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["texte", "json"]), default="texte",
              show_default=True, help="json : imprimer resultats.json au lieu du tableau.")
def resultats_cmd(dossier: Path, fmt: str) -> None:
    """Lire les grilles remplies, les contrôler et calculer les résultats de la session.

    Chaque grille est vérifiée (identité, critères, formules, protection, valeurs) ; une
    grille douteuse donne « Incomplet » et l'anomalie est listée avec sa cellule. Écrit
    resultats.xlsx et resultats.json et enregistre passages et blocs validés au registre.
    """

    from certidocs import api

    report = api.resultats(dossier, _Progress("Lecture des grilles"))
    if fmt == "json":
        # The file just written, line by line: the document is never whole in memory.
        with report.json_path.open(encoding="utf-8") as fh:
            for line in fh:
                click.echo(line, nl=False)
        return
    click.echo(_table(report))
    for line in _anomaly_lines(report.anomalies):
        click.echo(line)
    for a in report.remarques:
        click.echo(f"remarque : {f'{a.fichier} {a.cellule}'.strip()} : {a.message}")
    if report.scelle:
        click.echo("Session délibérée : les décisions sont celles scellées au registre ; "
                   "aucune n'a été recalculée (révision : « certidocs decision reviser »).")
    click.echo(f"Écrit : {report.xlsx_path} et {report.json_path}")


NON_EVALUES_CITES = 5
"""Empty evaluation cells of one grid printed one per line by `resultats`; more are said in
one line (a grid sent back empty made 93 lines, a session of them hundreds). resultats.json
and resultats.xlsx keep every cell."""


def _anomaly_lines(anomalies: list[Any]) -> Iterator[str]:
    """« anomalie : fichier cellule : message » for each anomaly, in order, except a grid's
    run of more than NON_EVALUES_CITES « critère … non évalué »: one line with their count
    and the first cells."""
    import itertools

    from certidocs.grid.reader import est_non_evalue

    def key(a: Any) -> tuple[str, bool]:
        return a.fichier, est_non_evalue(a)

    for (fichier, empty), run in itertools.groupby(anomalies, key=key):
        items = list(run)
        if empty and len(items) > NON_EVALUES_CITES:
            cells = ", ".join(a.cellule for a in items[:NON_EVALUES_CITES])
            yield (f"anomalie : {fichier} : {len(items)} critères non évalués : {cells} … "
                   "(toutes les cellules sont dans resultats.xlsx, feuille « Anomalies »)")
            continue
        for a in items:
            yield f"anomalie : {f'{a.fichier} {a.cellule}'.strip()} : {a.message}"


def _table(report: Any) -> str:
    from collections import Counter

    rows = [("N°", "Nom", "Prénom", "Décision", "Blocs validés")]
    for r in report.resultats:
        valid = ", ".join(b.code for b in r.blocs if b.valide) or "—"
        rows.append((r.numero, r.nom, r.prenom, r.decision, valid))
    widths = [min(max(len(str(row[i])) for row in rows), 40) for i in range(len(rows[0]))]
    lines = ["  ".join(str(v)[:40].ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    counts = Counter(r.decision for r in report.resultats)
    lines.append("")
    lines.append(" ; ".join(f"{d} : {n}" for d, n in counts.items()))
    return "\n".join(lines)


@main.command("demo")
@click.argument("dossier", type=click.Path(path_type=Path), default=Path("demo-certidocs"))
def demo_cmd(dossier: Path) -> None:
    """Dérouler toute la chaîne sur la session d'exemple, avec des jurés simulés.

    Crée un espace de travail neuf dans DOSSIER (par défaut : demo-certidocs), y copie la
    session d'exemple (12 candidats), puis vérifie la session, crée les grilles, les fait
    remplir par des jurés simulés, calcule les résultats et produit les documents. Se termine
    par le tableau des résultats et les chemins des fichiers à ouvrir.
    """
    from certidocs.demo import run_demo

    report = run_demo(dossier, click.echo)
    click.echo("")
    click.echo(_table(report.resultats))
    click.echo("")
    click.echo("À ouvrir :")
    click.echo(f"  session.xlsx       {report.session / 'session.xlsx'}")
    click.echo(f"  grilles des jurés  {report.session / 'grilles'}")
    click.echo(f"  résultats          {report.resultats.xlsx_path}")
    if report.documents:
        click.echo(f"  documents          {report.session / 'documents'}")
    click.echo(f"  registre           {report.espace / 'registre.sqlite'} "
               "(certidocs registre exporter)")


@main.command("lancer")
@click.argument("dossier", type=click.Path(path_type=Path))
def lancer_cmd(dossier: Path) -> None:
    """Faire l'étape due pour la session DOSSIER, et dire la suite.

    Vérifie session.xlsx ; crée les grilles et les documents d'avant l'examen ; attend le
    retour des grilles (« 12 grilles complètes sur 15 ; manquent : … ») ; quand toutes sont
    complètes, calcule les résultats et produit les documents d'après l'examen.
    """
    from certidocs.lancer import lancer

    report = lancer(dossier, _Progress("Traitement"))
    click.echo("Fait :")
    for line in report.fait:
        click.echo(f"  - {line}")
    if report.resultats is not None:
        click.echo("")
        click.echo(_table(report.resultats))
    if report.attente:
        click.echo(f"En attente : {report.attente}")
    click.echo(f"Prochaine étape : {report.prochaine}")


@main.command("bilan")
@click.option("--annee", type=int, required=True, help="Année des sessions à analyser (AAAA).")
@click.option("--referentiel", "code", default=None,
              help="Code d'une certification (par défaut : toutes).")
@click.option("-o", "--sortie", type=click.Path(path_type=Path), default=None,
              help="Rapport Word à écrire (par défaut : bilan-AAAA.docx dans l'espace) ; le "
                   "classeur Excel est écrit à côté, même nom en .xlsx.")
@click.option("--espace", type=click.Path(path_type=Path), default=".",
              help="Dossier de l'espace de travail (par défaut : le dossier courant).")
@click.option("--date", "date_", default=None,
              help="Date d'établissement imprimée (JJ/MM/AAAA, par défaut : aujourd'hui).")
def bilan_cmd(annee: int, code: str | None, sortie: Path | None, espace: Path,
              date_: str | None) -> None:
    """Bilan annuel pour le conseil de perfectionnement : un rapport Word (tableaux et
    graphiques) et un classeur Excel de tous les chiffres, tirés du registre."""
    from certidocs import api

    report = api.bilan(annee, code, sortie, espace, date_)
    click.echo(f"Bilan {annee} : {report.sessions} session(s), {report.passages} passage(s)")
    click.echo(f"  rapport   {report.rapport}")
    click.echo(f"  classeur  {report.classeur}")


@main.group("accrochage", cls=_Group)
def accrochage_group() -> None:
    """Déclarer les titulaires à la Caisse des Dépôts (accrochage des certifications).

    Les identifiants donnés par la Caisse des Dépôts se règlent dans la section
    [accrochage] de certidocs.toml.
    """


def _check_date(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from certidocs.accrochage import lire_date

    try:
        lire_date(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


@accrochage_group.command("exporter")
@click.option("--session", type=click.Path(path_type=Path), metavar="DOSSIER",
              help="Seulement les certificats de cette session (son session.xlsx complète "
                   "au passage sexe, code INSEE et pays de naissance des titulaires).")
@click.option("--depuis", metavar="DATE", callback=_check_date,
              help="Seulement les certificats délivrés depuis DATE (JJ/MM/AAAA).")
@click.option("-o", "--sortie", type=click.Path(path_type=Path), metavar="FICHIER",
              help="Fichier XML à écrire (par défaut : accrochage/accrochage-<date>.xml de "
                   "l'espace). Un fichier existant n'est jamais remplacé.")
@click.option("--espace", type=click.Path(path_type=Path), default=None,
              help="Dossier de l'espace de travail (par défaut : celui de la session, sinon "
                   "le dossier courant).")
def accrochage_exporter(session: Path | None, depuis: str | None, sortie: Path | None,
                        espace: Path | None) -> None:
    """Écrire le flux XML des certificats délivrés et pas encore déclarés.

    Les certificats refusés par la Caisse des Dépôts sont proposés de nouveau ; ceux qu'elle
    a acceptés, ou qui attendent sa réponse, jamais. Avant d'écrire, l'identité de chaque
    titulaire est contrôlée (nom de naissance, prénoms, sexe, date et lieu de naissance) et
    le flux est validé contre le schéma XSD de la Caisse des Dépôts : un titulaire incomplet
    est écarté et listé, un flux invalide n'est jamais écrit. Code de sortie 1 si un
    titulaire a été écarté.
    """
    if session is not None and depuis is not None:
        raise click.UsageError("--session et --depuis ne vont pas ensemble : choisissez l'un "
                               "ou l'autre.")
    from certidocs import api

    report = api.exporter_accrochage(session=session, depuis=depuis, sortie=sortie,
                                     espace=espace)
    if report.fichier is not None:
        click.echo(f"Flux écrit : {report.fichier}")
        click.echo(f"  {len(report.declares)} titulaire(s) déclaré(s)"
                   + (f", dont {len(report.renvoyes)} refusé(s) auparavant et renvoyé(s)"
                      if report.renvoyes else "") + " :")
        for numero, titulaire in report.declares:
            click.echo(f"  - {numero}  {titulaire}")
        click.echo("À déposer sur l'espace des certificateurs de la Caisse des Dépôts ; à "
                   "réception de sa réponse :")
        click.echo(f"  certidocs accrochage marquer {report.fichier} --acceptes   (ou --rejetes "
                   "--passage N° pour les passages refusés)")
    elif not report.ecartes:
        click.echo("Aucun certificat à déclarer : aucun fichier écrit.")
    for path in report.orphelins:
        click.echo(f"supprimé : {path} (flux d'un export interrompu, jamais enregistré)")
    for line in report.a_rectifier:
        click.echo(f"déclaration rectificative à faire auprès de la Caisse des Dépôts : "
                   f"certificat {line}")
    if report.en_attente:
        files = sorted({p["fichier"] for p in report.en_attente})
        click.echo(f"{len(report.en_attente)} certificat(s) en attente de la réponse de la Caisse "
                   f"des Dépôts (flux : {', '.join(files)}), non repris.")
    if report.ecartes:
        for e in report.ecartes:
            click.echo(f"écarté : {e}", err=True)
        _fail(f"{len(report.ecartes)} titulaire(s) écarté(s), non déclaré(s) : complétez leur "
              "identité dans session.xlsx (colonnes Sexe, Code INSEE de la commune de "
              "naissance, Pays de naissance…) ou le référentiel, puis relancez avec --session."
              + ("" if report.fichier else " Aucun fichier écrit."))


@accrochage_group.command("marquer")
@click.argument("fichier", type=click.Path(path_type=Path))
@click.option("--acceptes/--rejetes", "acceptes", default=None,
              help="La réponse de la Caisse des Dépôts : passages acceptés, ou refusés (ces "
                   "derniers seront proposés au prochain export).")
@click.option("--passage", "passages", multiple=True, metavar="N°",
              help="Le passage concerné (son idTechnique, c'est-à-dire le numéro du "
                   "certificat) ; répétable. Par défaut : tous ceux du flux encore en attente.")
@click.option("--motif", default="", metavar="TEXTE",
              help="Motif du refus, gardé au registre.")
@click.option("--espace", type=click.Path(path_type=Path), default=None,
              help="Dossier de l'espace de travail (par défaut : le dossier courant).")
def accrochage_marquer(fichier: Path, acceptes: bool | None, passages: tuple[str, ...],
                       motif: str, espace: Path | None) -> None:
    """Enregistrer la réponse de la Caisse des Dépôts au flux FICHIER.

    FICHIER est un flux écrit par « certidocs accrochage exporter » (reconnu à son contenu,
    ou à son nom s'il a été déplacé). Les passages acceptés ne seront plus jamais déclarés ;
    les passages refusés le seront de nouveau au prochain export.
    """
    if acceptes is None:
        raise click.UsageError("précisez la réponse : --acceptes ou --rejetes.")
    from certidocs import api

    report = api.marquer_accrochage(fichier, acceptes, passages, motif, espace)
    click.echo(f"{report.fichier} : {report.marques} passage(s) marqué(s) « {report.statut} ».")
    click.echo(f"  état du flux : {report.compte('accepté')} accepté(s), "
               f"{report.compte('rejeté')} refusé(s), {report.compte('envoyé')} en attente.")
    if report.statut == "rejeté" and report.marques:
        click.echo("Les passages refusés seront proposés au prochain « certidocs accrochage "
                   "exporter » : corrigez d'abord ce que la Caisse des Dépôts signale.")


@accrochage_group.command("importer-retour")
@click.argument("fichier", type=click.Path(path_type=Path))
@click.option("--espace", type=click.Path(path_type=Path), default=None,
              help="Dossier de l'espace de travail (par défaut : le dossier courant).")
def accrochage_importer_retour(fichier: Path, espace: Path | None) -> None:
    """Enregistrer l'accusé de traitement FICHIER de la Caisse des Dépôts.

    Chaque passage accepté ne sera plus déclaré ; chaque passage refusé est expliqué (ce qu'il
    faut corriger : nom de naissance, prénoms, sexe, date ou commune de naissance) et sera
    proposé de nouveau au prochain « certidocs accrochage exporter ». Un passage « existe
    déjà en base » compte comme accepté. Rien n'est enregistré si le fichier ne répond pas à
    un flux exporté depuis cet espace.
    """
    from certidocs import api
    from certidocs.accrochage.retour import resume

    retour = api.importer_retour_accrochage(fichier, espace)
    for line in resume(retour):
        click.echo(line)
    if retour.rejetes:
        click.echo("Corrigez ces identités dans session.xlsx, puis : certidocs accrochage "
                   "exporter --session DOSSIER (seuls les passages refusés seront repris).")


@main.command("documents")
@click.argument("dossier", type=click.Path(path_type=Path))
@click.option("--type", "types", multiple=True, metavar="TYPE",
              help="Seulement ce type (répétable) : convocation_candidat, convocation_jury, "
                   "emargement, fiche_resultats, proces_verbal, certificat, attestation_blocs, "
                   "notification_resultats, non_recevabilite, suivi_dysfonctionnements.")
@click.option("--pdf", is_flag=True, help="Convertir aussi chaque document en PDF "
                                          "(LibreOffice).")
@click.option("--remplacer-modifies", is_flag=True,
              help="Remplacer aussi les documents modifiés à la main depuis leur production.")
def documents_cmd(dossier: Path, types: tuple[str, ...], pdf: bool,
                  remplacer_modifies: bool) -> None:
    """Produire les documents Word dus à ce stade de la session, dans DOSSIER/documents/.

    Avant les résultats : convocations des candidats et du jury, feuille d'émargement.
    Après : fiches individuelles, procès-verbal, certificats, attestations de blocs,
    notifications de résultats et de non-recevabilité, fiche de suivi des
    dysfonctionnements. Un fichier par personne et, pour l'impression, un fichier
    _impression_<type>.docx par type. Un document modifié à la main n'est pas remplacé.
    """
    from certidocs import api

    report = api.documents(dossier, types=types or None, pdf=pdf,
                           remplacer_modifies=remplacer_modifies,
                           progress=_Progress("Documents"))
    stage = {"avant": "d'avant l'examen", "apres": "d'après l'examen"}.get(report.etape, "")
    click.echo(f"Documents {stage} produits dans {dossier / 'documents'} :".replace("  ", " "))
    for kind, count in report.par_type.items():
        click.echo(f"  {kind:<26} {count} fichier(s)")
    if report.pdfs:
        click.echo(f"  {len(report.pdfs)} PDF")
    for warning in report.avertissements:
        click.echo(f"attention : {warning}")


@main.command("console")
@click.argument("espace", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True,
              help="Port local de la console.")
@click.option("--sans-navigateur", is_flag=True,
              help="Ne pas ouvrir le navigateur (seulement afficher l'adresse).")
def console_cmd(espace: Path, port: int, sans_navigateur: bool) -> None:
    """Ouvrir la console web de l'espace ESPACE (par défaut : le dossier courant).

    Un serveur local, sur 127.0.0.1 seulement : une page par étape de chaque session (créer,
    déposer session.xlsx et les grilles rendues, vérifier, grilles, résultats, documents,
    déclaration à la Caisse des Dépôts), et la page publique /verifier des certificats.
    L'adresse affichée contient un jeton secret : seule la personne qui l'a peut s'en servir.
    Arrêt : Ctrl+C.
    """
    from certidocs.console.app import serve

    serve(espace, port=port, ouvrir=not sans_navigateur, say=click.echo)


@registre_group.command("verifier")
@click.argument("numero")
@click.argument("code")
@click.option("--espace", type=click.Path(path_type=Path), default=".",
              help="Dossier de l'espace de travail (par défaut : le dossier courant).")
def registre_verifier(numero: str, code: str, espace: Path) -> None:
    """Dire si le certificat NUMERO, de code de vérification CODE, est authentique.

    Affiche à qui et quand il a été délivré. Code de sortie 1 si le certificat est inconnu
    ou si le code ne correspond pas.
    """
    from certidocs import api

    found = api.verifier_certificat(numero, code, espace)
    if "nom_naissance" not in found:
        _fail(f"Certificat {numero} inconnu du registre : il n'est pas authentique.")
    who = f"{found['prenom']} {found['nom_naissance']}"
    if not found["authentique"]:
        _fail(f"Certificat {found['numero']} : le code {code} ne correspond pas ; ce "
              "certificat n'est pas authentique (ou le code a été mal recopié).")
    if found.get("revoque_le"):
        _fail(f"Certificat {found['numero']} RÉVOQUÉ le {_jour(found['revoque_le'])} : "
              f"{found['motif_revocation']} (il avait été délivré le "
              f"{_jour(found['date_delivrance'])} à {who}) ; il ne vaut plus certification.")
    click.echo(f"Certificat {found['numero']} authentique : délivré le "
               f"{_jour(found['date_delivrance'])} à {who}, né(e) le "
               f"{_jour(found['date_naissance'])}, certification {found['referentiel']}, "
               f"session {found['session']}.")


@registre_group.command("controler")
@click.option("--espace", type=click.Path(path_type=Path), default=".",
              help="Dossier de l'espace de travail (par défaut : le dossier courant).")
def registre_controler(espace: Path) -> None:
    """Chercher toute modification du registre faite hors de certidocs.

    Recalcule le chaînage du journal (chaque écriture y est gardée avec l'empreinte de la
    précédente), vérifie sa tête signée, puis rejoue le journal et compare chaque table :
    toute ligne modifiée, supprimée ou ajoutée à la main est nommée. Code de sortie 1 si
    quelque chose est trouvé.
    """
    from certidocs import api

    found = api.controler_registre(espace)
    for f in found:
        click.echo(f"anomalie : {f}", err=True)
    if found:
        _fail(f"{len(found)} anomalie(s) : le registre ou ses fichiers ont été modifiés hors de "
              "certidocs. "
              "Comparez avec votre sauvegarde avant toute nouvelle délivrance.")
    click.echo("Registre intègre : le journal est complet et chaîné, chaque table est "
               "exactement ce que certidocs y a écrit.")


@registre_group.command("migrer")
@click.option("--vers", "vers", required=True, metavar="URL",
              help="Adresse du registre partagé : postgresql://compte@serveur/base (mot de "
                   "passe dans la variable CERTIDOCS_REGISTRE_MOT_DE_PASSE).")
@click.option("--espace", type=click.Path(path_type=Path), default=".",
              help="Dossier de l'espace de travail (par défaut : le dossier courant).")
def registre_migrer(vers: str, espace: Path) -> None:
    """Copier le registre de l'espace (registre.sqlite) dans le registre partagé PostgreSQL.

    Copie chaque table et le journal tel quel : « registre controler » passe ensuite sur le
    registre partagé. Relancer la commande ne copie rien deux fois. Mettez ensuite
    l'adresse dans certidocs.toml ([registre] url) pour que l'espace écrive dans le registre
    partagé.
    """
    from certidocs import api
    from certidocs.registre.reseau import resume_migration

    copied = api.migrer_registre(espace, vers)
    if copied:
        click.echo("Registre copié dans le registre partagé :")
    click.echo(resume_migration(copied))


@registre_group.command("centre")
@click.argument("siret")
@click.argument("nom")
@click.option("--compte", required=True,
              help="Compte PostgreSQL du centre (lettres minuscules, chiffres, « _ »).")
@click.option("--mot-de-passe-env", default="",
              help="Variable d'environnement qui contient le mot de passe du compte à créer "
                   "(sans elle, le compte doit déjà exister sur le serveur).")
@click.option("--espace", type=click.Path(path_type=Path), default=".",
              help="Dossier de l'espace de travail (par défaut : le dossier courant).")
def registre_centre(siret: str, nom: str, compte: str, mot_de_passe_env: str,
                    espace: Path) -> None:
    """Déclarer un centre partenaire et son compte sur le registre partagé (certificateur).

    Le compte ne voit que les candidats, sessions et certificats de son centre, et, pour les
    règles de rattrapage, l'historique d'une personne qu'il présente.
    """
    import os

    from certidocs import api

    password = os.environ.get(mot_de_passe_env) if mot_de_passe_env else None
    if mot_de_passe_env and not password:
        _fail(f"la variable {mot_de_passe_env} est vide ou absente")
    api.declarer_centre(espace, siret, nom, compte, password)
    click.echo(f"Centre {siret} ({nom}) déclaré ; son compte : {compte}.")


@registre_group.command("cle-publique")
@click.option("-o", "--sortie", type=click.Path(path_type=Path), default=None,
              help="Fichier à écrire (par défaut : affichée à l'écran).")
@click.option("--espace", type=click.Path(path_type=Path), default=".",
              help="Dossier de l'espace de travail (par défaut : le dossier courant).")
def registre_cle_publique(sortie: Path | None, espace: Path) -> None:
    """Exporter la clé publique qui vérifie les certificats, à publier.

    Avec elle seule, n'importe qui vérifie un certificat hors ligne (« certidocs verifier »),
    même si l'organisme n'existe plus. La clé privée, elle, ne quitte jamais l'espace.
    """
    from certidocs import api

    pem = api.cle_publique(espace, sortie)
    if sortie is None:
        click.echo(pem.decode("ascii"), nl=False)
    else:
        click.echo(f"Clé publique écrite : {sortie}")


@registre_group.command("revocations")
@click.option("-o", "--sortie", type=click.Path(path_type=Path),
              default=Path("revocations.json"), show_default=True, help="Fichier à écrire.")
@click.option("--espace", type=click.Path(path_type=Path), default=".",
              help="Dossier de l'espace de travail (par défaut : le dossier courant).")
def registre_revocations(sortie: Path, espace: Path) -> None:
    """Écrire la liste signée des certificats révoqués, à publier avec la clé publique.

    Elle ne donne que les numéros et les dates de révocation ; « certidocs verifier
    --revocations » la contrôle avec la clé publique.
    """
    from certidocs import api

    path, count = api.liste_revocations(espace, sortie)
    click.echo(f"Liste de révocation signée écrite : {path} ({count} certificat(s) révoqué(s))")


@registre_group.command("creer-cles")
@click.option("--espace", type=click.Path(path_type=Path), default=".",
              help="Dossier de l'espace de travail (par défaut : le dossier courant).")
def registre_creer_cles(espace: Path) -> None:
    """Créer le secret et la clé de signature d'un espace qui n'en a pas.

    Pour un espace créé avant cette version et qui n'a encore délivré aucun certificat ;
    refusé si le registre en compte (restaurez alors les fichiers depuis la sauvegarde).
    """
    from certidocs import api

    created = api.creer_cles(espace)
    for path in created:
        click.echo(f"Créé : {path} (à sauvegarder : les certificats en dépendront)")
    if not created:
        click.echo("Rien à créer : le secret et la clé de signature existent.")


@main.command("deliberer")
@click.argument("dossier", type=click.Path(path_type=Path))
def deliberer_cmd(dossier: Path) -> None:
    """Sceller les décisions de la session DOSSIER (délibération du jury).

    Chaque candidat doit avoir une décision au registre, calculée sur sa grille telle
    qu'elle est. L'empreinte des décisions et de leurs preuves est gardée au registre et
    imprimée sur le procès-verbal. Ensuite, « certidocs resultats » ne décide plus rien :
    une décision ne change que par « certidocs decision reviser ». Les premiers documents
    d'après l'examen scellent la session d'eux-mêmes.
    """
    from certidocs import api
    from certidocs.deliberation import empreinte_affichee

    report = api.deliberer(dossier)
    state = "déjà scellée" if report.deja_scelle else "scellée"
    click.echo(f"Session {state} : {report.nombre} décision(s), version {report.version}, "
               f"empreinte {empreinte_affichee(report.empreinte)}.")


@main.group("decision", cls=_Group)
def decision_group() -> None:
    """Réviser une décision après la délibération (erreur du jury, recours accueilli)."""


@decision_group.command("reviser")
@click.argument("dossier", type=click.Path(path_type=Path))
@click.argument("numero")
@click.option("--motif", required=True, metavar="TEXTE",
              help="Pourquoi la décision change (gardé à l'historique).")
@click.option("--date", "date_", default=None, metavar="JJ/MM/AAAA",
              help="Date de la décision de révision (par défaut : aujourd'hui).")
def decision_reviser(dossier: Path, numero: str, motif: str, date_: str | None) -> None:
    """Décider de nouveau pour le candidat NUMERO, d'après sa grille corrigée.

    La révision s'ajoute à l'historique (jamais d'écrasement) ; un certificat qu'elle
    invalide est révoqué (gardé, marqué révoqué avec le motif), les blocs capitalisés
    suivent, la session est scellée de nouveau.
    """
    from certidocs import api

    r = api.reviser_decision(dossier, numero, motif, date_)
    click.echo(f"Décision de {r.numero} révisée le {r.date_revision:%d/%m/%Y} : {r.ancienne} → "
               f"{r.nouvelle} (scellement version {r.scellement}).")
    for bloc in r.blocs_retires:
        click.echo(f"  bloc {bloc} : n'est plus capitalisé")
    for bloc in r.blocs_ajoutes:
        click.echo(f"  bloc {bloc} : capitalisé")
    if r.revoque:
        click.echo(f"  certificat {r.revoque} RÉVOQUÉ : {r.motif}")
        if r.a_rectifier_cdc:
            click.echo("  ce titulaire a déjà été déclaré à la Caisse des Dépôts : faites une "
                       "déclaration rectificative (voir « certidocs accrochage exporter »).")
    click.echo(f"Relancez « certidocs documents {dossier} » pour les documents à jour.")


@main.command("verifier")
@click.argument("source", metavar="QR_TEXTE|IMAGE")
@click.option("--cle", required=True, type=click.Path(path_type=Path), metavar="FICHIER",
              help="La clé publique du certificateur (certidocs registre cle-publique).")
@click.option("--revocations", type=click.Path(path_type=Path), default=None,
              metavar="FICHIER", help="La liste de révocation signée qu'il publie.")
def verifier_cmd(source: str, cle: Path, revocations: Path | None) -> None:
    """Vérifier un certificat hors ligne, avec la seule clé publique du certificateur.

    SOURCE est le texte du QR code du certificat (ou l'adresse qu'il contient), ou une image
    (PNG, JPEG) de ce QR code. Dit ce que le certificat atteste. Code de sortie 1 si la
    signature ne correspond pas ou si le certificat est révoqué.
    """
    from certidocs import api

    found = api.verifier_hors_ligne(source, cle, revocations)
    a = found["attestation"]
    born = f", né(e) le {a.date_naissance:%d/%m/%Y}" if a.date_naissance else ""
    statement = (f"certificat n° {a.numero} délivré le {a.date_delivrance:%d/%m/%Y} à "
                 f"{a.prenom} {a.nom}{born} : {a.intitule} ({a.referentiel})")
    if found["revoque_le"]:
        _fail(f"Signature valide, mais {statement} a été RÉVOQUÉ le "
              f"{_jour(found['revoque_le'])} (liste de révocation signée).")
    click.echo(f"Signature valide : {statement}.")
    if not found["liste"]:
        click.echo("Révocation non contrôlée : ajoutez --revocations avec la liste que publie "
                   "le certificateur.")
