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
    import json

    from certidocs import api

    report = api.resultats(dossier, _Progress("Lecture des grilles"))
    if fmt == "json":
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
        return
    click.echo(_table(report))
    for a in report.anomalies:
        where = f"{a.fichier} {a.cellule}".strip()
        click.echo(f"anomalie : {where} : {a.message}")
    for a in report.remarques:
        click.echo(f"remarque : {a.fichier} : {a.message}")
    click.echo(f"Écrit : {report.xlsx_path} et {report.json_path}")


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
    click.echo(f"Certificat {found['numero']} authentique : délivré le "
               f"{found['date_delivrance']} à {who}, né(e) le {found['date_naissance']}, "
               f"certification {found['referentiel']}, session {found['session']}.")
