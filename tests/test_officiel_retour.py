"""The Caisse des Dépôts' processing answer (« accusé de traitement »): parsed into a plain
report, each rejection explained in French, recorded per passage; the round trip export →
answer → re-export proposes only the rejected passages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import FIXTURES
from test_accrochage import certify, make_workspace, passages, ws_of

from certidocs import api
from certidocs.accrochage import exporter
from certidocs.accrochage.flux import id_flux_de
from certidocs.accrochage.retour import NS_RAPPORT, expliquer, lire_retour
from certidocs.cli import main
from certidocs.errors import AccrochageError

ACCUSE = FIXTURES / "officiel" / "accuse-de-traitement.xml"


def answer(path: Path, id_flux: str, ok: list[str], ko: dict[str, str],
           nom: str = "flux.xml") -> Path:
    """An answer file in the CDC's shape for a flux."""
    kos = "".join(f"<passage><idTechnique>{i}</idTechnique><messageErreur>{m}</messageErreur>"
                  "</passage>" for i, m in ko.items())
    oks = "".join(f"<idTechnique>{i}</idTechnique>" for i in ok)
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?><ns2:rapport xmlns:ns2="{NS_RAPPORT}">'
                    f"<nomFichier>{nom}</nomFichier><idFlux>{id_flux}</idFlux>"
                    f"<idTraitement>77</idTraitement><PassagesKO>{kos}</PassagesKO>"
                    f"<PassagesOK>{oks}</PassagesOK></ns2:rapport>", encoding="utf-8")
    return path


def test_synthetic_answer_is_parsed() -> None:
    """Header, two OK, four KO of which « existe déjà en base » counts as accepted."""
    retour = lire_retour(ACCUSE)
    assert (retour.nom_fichier, retour.id_traitement) == ("accrochage-20270105-090000.xml",
                                                          "51354")
    assert retour.id_flux == "3f2b8c1e-0d4a-4c7e-9b1a-5e6f7a8b9c0d"
    assert sorted(p.id_technique for p in retour.acceptes) == [
        "CPECOM-2026-00001", "CPECOM-2026-00004", "CPECOM-2026-00006"]
    assert [p.id_technique for p in retour.rejetes] == [
        "CPECOM-2026-00002", "CPECOM-2026-00003", "CPECOM-2026-00005"]
    deja = next(p for p in retour.passages if p.id_technique == "CPECOM-2026-00004")
    assert deja.deja_declare and "existe déjà en base" in deja.message


@pytest.mark.parametrize(("message", "accepte", "mots"), [
    ("Aucun titulaire ne correspond aux critères obligatoires", False,
     ("nom de naissance", "prénoms", "sexe", "date de naissance", "commune de naissance")),
    ("Plusieurs titulaires ont été identifiés", False, ("tous ses prénoms", "code INSEE")),
    ("Le passage X existe déjà en base", True, ("déjà enregistré",)),
    ("Sexe invalide", False, ("« Sexe invalide »", "colonne « Sexe »")),
])
def test_each_rejection_says_what_to_correct(message: str, accepte: bool,
                                             mots: tuple[str, ...]) -> None:
    ok, text = expliquer(message)
    assert ok is accepte
    for mot in mots:
        assert mot in text


@pytest.mark.parametrize(("content", "attendu"), [
    ("<rapport><idFlux>x</idFlux></rapport>", "ce n'est pas un accusé de traitement"),
    (f'<r:rapport xmlns:r="{NS_RAPPORT}"><idFlux>x</idFlux><PassagesOK><idTechnique>A'
     "</idTechnique><idTechnique>A</idTechnique></PassagesOK></r:rapport>", "figure deux fois"),
    (f'<r:rapport xmlns:r="{NS_RAPPORT}"><PassagesOK/></r:rapport>', "sans idFlux"),
    (f'<r:rapport xmlns:r="{NS_RAPPORT}"><idFlux>x</idFlux><PassagesKO><passage>',
     "XML illisible"),
])
def test_bad_answers_are_refused_in_french(tmp_path: Path, content: str, attendu: str) -> None:
    path = tmp_path / "a.xml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AccrochageError) as err:
        lire_retour(path)
    assert attendu in str(err.value) and str(path) in str(err.value)


def test_round_trip_export_answer_reexport_only_rejected(tmp_path: Path,
                                                        cli_runner: CliRunner) -> None:
    """Three holders exported; the CDC accepts one, says one exists already, rejects one:
    the next export holds only the rejected one, under the same idTechnique."""
    root = make_workspace(tmp_path / "espace")
    a = certify(root, "Lefèvre", "Élodie", dt.date(1990, 4, 3))
    b = certify(root, "Martin", "Paul", dt.date(1988, 2, 1), sexe="M")
    c = certify(root, "Durand", "Chloé", dt.date(1992, 6, 9))
    first = exporter(ws_of(root), maintenant=dt.datetime(2027, 1, 5, 9, 0))
    assert first.fichier is not None and set(passages(first.fichier)) == {a, b, c}
    reply = answer(tmp_path / "accuse.xml", id_flux_de(first.fichier.read_bytes()), [a],
                   {b: "Aucun titulaire ne correspond aux critères obligatoires",
                    c: f"Le passage {c} existe déjà en base"}, nom=first.fichier.name)
    result = cli_runner.invoke(main, ["accrochage", "importer-retour", str(reply),
                                      "--espace", str(root)])
    assert result.exit_code == 0, result.output
    assert "2 passage(s) accepté(s) (dont 1 déjà enregistré(s)), 1 refusé(s)" in result.output
    assert f"refusé : {b} (MARTIN Paul)" in result.output and "nom de naissance" in result.output
    second = exporter(ws_of(root), maintenant=dt.datetime(2027, 1, 12, 9, 0))
    assert second.fichier is not None and set(passages(second.fichier)) == {b}
    assert second.renvoyes == (b,)


def test_answer_to_an_unknown_flux_records_nothing(tmp_path: Path) -> None:
    """Another workspace's answer, or a passage the flux does not hold: refused whole."""
    root = make_workspace(tmp_path / "espace")
    a = certify(root, "Lefèvre", "Élodie", dt.date(1990, 4, 3))
    first = exporter(ws_of(root), maintenant=dt.datetime(2027, 1, 5, 9, 0))
    assert first.fichier is not None
    with pytest.raises(AccrochageError) as err:
        api.importer_retour_accrochage(ACCUSE, root)
    assert "n'a pas été exporté depuis cet espace" in str(err.value)
    reply = answer(tmp_path / "r.xml", id_flux_de(first.fichier.read_bytes()), [a, "INCONNU-1"],
                   {})
    with pytest.raises(AccrochageError) as err:
        api.importer_retour_accrochage(reply, root)
    assert "INCONNU-1" in str(err.value)
    again = exporter(ws_of(root))
    assert {p["numero"] for p in again.en_attente} == {a}  # still awaiting: nothing recorded
