"""Bad input to `certidocs referentiel importer`: one French message, exit 1, nothing written.

Each case goes through the command line and checks the exit code, the message (which names the
file) and that the folder holds exactly what it held before (no YAML, no temporary file).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document
from helpers import FIXTURES
from seedtools import SEEDS, SOURCES

from certidocs.cli import main

EXPORT = FIXTURES / "import" / "export-fiches-rncp-v4-1-extract.xml"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _refused(cli_runner: CliRunner, folder: Path, args: list[str], *words: str) -> str:
    """Run the importer, expect exit 1 with ``words`` in the message and nothing written."""
    before = _files(folder)
    result = cli_runner.invoke(main, ["referentiel", "importer", *args])
    assert result.exit_code == 1, result.output
    message = result.stderr
    assert message.startswith("Erreur : ")
    assert len(message.strip().splitlines()) == 1  # one message, no traceback
    for word in words:
        assert word in message, message
    assert _files(folder) == before
    return message


def _docx(path: Path, columns: int | None, rows: list[list[str]] | None = None) -> Path:
    doc = Document()
    doc.add_paragraph("Référentiel de certification")
    if columns is not None:
        table = doc.add_table(rows=0, cols=columns)
        for texts in rows or [["Compétences", "Critères d'évaluation"][:columns]]:
            row = table.add_row()
            for cell, text in zip(row.cells, texts, strict=False):
                cell.text = text
    doc.save(str(path))
    return path


def test_docx_without_table(tmp_path: Path, cli_runner: CliRunner) -> None:
    """A Word document with no table at all."""
    source = _docx(tmp_path / "sans_tableau.docx", None)
    _refused(cli_runner, tmp_path, [str(source), "-o", str(tmp_path / "out.yaml")],
             "sans_tableau.docx", "aucun tableau")


def test_docx_with_a_two_column_table(tmp_path: Path, cli_runner: CliRunner) -> None:
    """A two-column table is not a référentiel table: say how many columns are expected."""
    source = _docx(tmp_path / "deux_colonnes.docx", 2,
                   [["Compétences", "Critères"], ["Mener une veille", "Les sources sont citées."]])
    _refused(cli_runner, tmp_path, [str(source), "-o", str(tmp_path / "out.yaml")],
             "deux_colonnes.docx", "2 colonne(s)", "4 colonnes")


def test_corrupt_docx(tmp_path: Path, cli_runner: CliRunner) -> None:
    """Bytes that are not a Word file (a download cut short, a renamed file)."""
    source = tmp_path / "abime.docx"
    source.write_bytes(b"PK\x03\x04 ce fichier a ete tronque pendant le telechargement")
    _refused(cli_runner, tmp_path, [str(source), "-o", str(tmp_path / "out.yaml")],
             "abime.docx", "illisible ou endommagé")


def test_docx_zip_without_document(tmp_path: Path, cli_runner: CliRunner) -> None:
    """A valid zip archive that holds no Word document."""
    source = tmp_path / "archive.docx"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("notes.txt", "rien")
    _refused(cli_runner, tmp_path, [str(source), "-o", str(tmp_path / "out.yaml")],
             "archive.docx", "illisible ou endommagé")


def test_docx_with_broken_xml(tmp_path: Path, cli_runner: CliRunner) -> None:
    """A .docx whose document part is not well-formed XML."""
    source = tmp_path / "xml_casse.docx"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("word/document.xml", "<w:document><w:body><w:p>")
    _refused(cli_runner, tmp_path, [str(source), "-o", str(tmp_path / "out.yaml")],
             "xml_casse.docx", "endommagé")


def test_password_protected_docx(tmp_path: Path, cli_runner: CliRunner) -> None:
    """An encrypted Word file is an OLE container with EncryptionInfo/EncryptedPackage streams.

    Built here as such a container's signature and stream names (UTF-16), which is what
    tells it apart from a .docx; no password can be guessed, the user is told to remove it.
    """
    source = tmp_path / "protege.docx"
    source.write_bytes(OLE_MAGIC + bytes(504) + "EncryptionInfo".encode("utf-16-le")
                       + bytes(50) + "EncryptedPackage".encode("utf-16-le") + bytes(1024))
    _refused(cli_runner, tmp_path, [str(source), "-o", str(tmp_path / "out.yaml")],
             "protege.docx", "protégé par un mot de passe")


def test_old_word_format_under_docx_name(tmp_path: Path, cli_runner: CliRunner) -> None:
    """An old .doc renamed .docx: an OLE container without encryption streams."""
    source = tmp_path / "ancien.docx"
    source.write_bytes(OLE_MAGIC + bytes(2048))
    _refused(cli_runner, tmp_path, [str(source), "-o", str(tmp_path / "out.yaml")],
             "ancien.docx", "ancien format Word (.doc)")


def test_xml_that_is_not_an_rncp_export(tmp_path: Path, cli_runner: CliRunner) -> None:
    """Well-formed XML of another kind."""
    source = FIXTURES / "import" / "pas_rncp.xml"
    _refused(cli_runner, tmp_path, [str(source), "-o", str(tmp_path / "out.yaml")],
             "pas_rncp.xml", "n'est pas un export RNCP", "candidats")


def test_malformed_xml(tmp_path: Path, cli_runner: CliRunner) -> None:
    """XML cut in the middle: the line is given."""
    source = tmp_path / "coupe.xml"
    source.write_text("<?xml version='1.0'?>\n<FICHES>\n<FICHE>\n<NUMERO_FICHE>RNCP1",
                      encoding="utf-8")
    _refused(cli_runner, tmp_path, [str(source), "-o", str(tmp_path / "out.yaml")],
             "coupe.xml", "XML illisible", "ligne")


def test_xml_entities_are_not_expanded(tmp_path: Path, cli_runner: CliRunner) -> None:
    """An XML file cannot make the importer read another file through an entity."""
    secret = tmp_path / "secret.txt"
    secret.write_text("NE PAS LIRE", encoding="utf-8")
    source = tmp_path / "entite.xml"
    source.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE FICHES [<!ENTITY s SYSTEM "file://{secret}">]>
<FICHES><FICHE><NUMERO_FICHE>RNCP1234</NUMERO_FICHE><INTITULE>&s;</INTITULE>
<BLOCS_COMPETENCES><BLOC_COMPETENCES><CODE>RNCP1234BC01</CODE><LIBELLE>Bloc</LIBELLE>
<LISTE_COMPETENCES>Faire</LISTE_COMPETENCES></BLOC_COMPETENCES></BLOCS_COMPETENCES>
</FICHE></FICHES>""", encoding="utf-8")
    out = tmp_path / "out.yaml"
    result = cli_runner.invoke(main, ["referentiel", "importer", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "NE PAS LIRE" not in out.read_text(encoding="utf-8")


def test_fiche_not_in_the_export(tmp_path: Path, cli_runner: CliRunner) -> None:
    """--fiche names a fiche the file does not hold: the ones it holds are listed."""
    _refused(cli_runner, tmp_path, [str(EXPORT), "--fiche", "RNCP12345", "-o",
                                    str(tmp_path / "out.yaml")],
             "RNCP12345", "n'est pas dans ce fichier", "RNCP35340, RNCP40792")


def test_several_fiches_without_choice(tmp_path: Path, cli_runner: CliRunner) -> None:
    """Without --fiche, an export of several fiches lists their numbers."""
    _refused(cli_runner, tmp_path, [str(EXPORT), "-o", str(tmp_path / "out.yaml")],
             "2 fiches (RNCP35340, RNCP40792)", "--fiche")


@pytest.mark.parametrize(("name", "words"), [
    ("referentiel.pdf", ("format « .pdf » non pris en charge", ".docx")),
    ("referentiel.doc", ("format « .doc »", "enregistrez-le au format .docx")),
    ("referentiel", ("sans extension",)),
])
def test_unknown_extension(tmp_path: Path, cli_runner: CliRunner, name: str,
                           words: tuple[str, ...]) -> None:
    """Only .docx, .txt, .md and .xml are imported."""
    source = tmp_path / name
    source.write_bytes(b"%PDF-1.4")
    _refused(cli_runner, tmp_path, [str(source), "-o", str(tmp_path / "out.yaml")], *words)


def test_missing_source(tmp_path: Path, cli_runner: CliRunner) -> None:
    """A source that does not exist."""
    _refused(cli_runner, tmp_path, [str(tmp_path / "absent.docx")], "absent.docx",
             "introuvable")


def test_fiche_option_on_a_word_file(tmp_path: Path, cli_runner: CliRunner) -> None:
    """--fiche only makes sense for an RNCP export."""
    source = _docx(tmp_path / "r.docx", 2)
    _refused(cli_runner, tmp_path, [str(source), "--fiche", "RNCP1"], "--fiche",
             "export RNCP (.xml)")


def test_text_without_table(tmp_path: Path, cli_runner: CliRunner) -> None:
    """A text file with no tab-separated row is not an export of a référentiel."""
    source = tmp_path / "notes.txt"
    source.write_text("Des notes de réunion.\nSans tableau.\n", encoding="utf-8")
    _refused(cli_runner, tmp_path, [str(source), "-o", str(tmp_path / "out.yaml")],
             "notes.txt", "aucun tableau")


def test_table_without_criteria(tmp_path: Path, cli_runner: CliRunner) -> None:
    """A bloc whose criteria column is empty cannot make a valid référentiel: said, by bloc."""
    source = _docx(tmp_path / "vide.docx", 4, [
        ["Activités", "Compétences", "Modalités d'évaluation", "Critères d'évaluation"],
        ["Bloc 1 : Concevoir", "", "", ""],
        ["Veille", "C1. Mener une veille", "Étude de cas", ""],
    ])
    _refused(cli_runner, tmp_path, [str(source), "-o", str(tmp_path / "out.yaml")],
             "vide.docx", "aucun critère", "BC01 « Concevoir »")


def test_existing_file_is_not_replaced_without_force(tmp_path: Path,
                                                     cli_runner: CliRunner) -> None:
    """An existing YAML file is kept as it is, unless --force is given."""
    out = tmp_path / "out.yaml"
    out.write_text("# fait main\n", encoding="utf-8")
    source = SOURCES / SEEDS["002"]
    _refused(cli_runner, tmp_path, [str(source), "-o", str(out)], "out.yaml existe déjà",
             "--force")
    assert out.read_text(encoding="utf-8") == "# fait main\n"
    result = cli_runner.invoke(main, ["referentiel", "importer", str(source), "-o", str(out),
                                      "--force"])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("# Référentiel importé")
    assert _files(tmp_path) == ["out.yaml"]  # no temporary file left behind


def test_output_folder_must_exist(tmp_path: Path, cli_runner: CliRunner) -> None:
    """-o into a folder that does not exist."""
    _refused(cli_runner, tmp_path, [str(SOURCES / SEEDS["000"]), "-o",
                                    str(tmp_path / "nulle_part" / "out.yaml")],
             "nulle_part", "dossier introuvable")
