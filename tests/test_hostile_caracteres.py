"""Characters as users type them: a name outside the Basic Multilingual Plane reaches the PDF,
or `--pdf` says which character would be lost."""

from __future__ import annotations

import shutil
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from helpers import ROOT, exiger_libreoffice
from test_documents_pdf import besoin_libreoffice, pdf_text

import certidocs.libreoffice
from certidocs.cli import main
from certidocs.documents.pdf import glyphs_warnings
from certidocs.libreoffice import characters_without_font

CASE = ROOT.parent / "shared" / "cases" / "classeurs" / "session-caractere-hors-bmp.xlsx"
HORS_BMP = ("𠮷", "🌸")  # U+20BB7 in « 𠮷田 », U+1F338 in « Zoé 🌸 »
LATIN_ONLY = [(0x20, 0x7E), (0xA0, 0x17F), (0x2000, 0x206F)]


def test_characters_without_font_from_fontconfig_ranges(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.setattr(certidocs.libreoffice, "_installed_coverage", lambda: LATIN_ONLY)
    assert characters_without_font({"é", "Œ", "’", "𠮷", "🌸", "漢", "\u200d", "\ufe0f",
                                    "\u00a0"}) == ["漢", "🌸", "𠮷"]


def test_no_fontconfig_no_false_alarm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(certidocs.libreoffice, "_installed_coverage", lambda: None)
    assert characters_without_font({"𠮷"}) == []


def test_warning_names_character_code_point_and_documents(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(certidocs.libreoffice, "_installed_coverage", lambda: LATIN_ONLY)
    docs = []
    for name, text in [("001_Hana.docx", "Madame Hana 𠮷田"), ("002_Zoe.docx", "Zoé 🌸"),
                       ("003_Ok.docx", "Élodie Œuvre")]:
        document = docx.Document()
        document.add_paragraph(text)
        document.save(str(tmp_path / name))
        docs.append(tmp_path / name)
    asked: list[int] = []

    def coverage() -> list[tuple[int, int]]:
        asked.append(1)
        return LATIN_ONLY

    monkeypatch.setattr(certidocs.libreoffice, "_installed_coverage", coverage)
    warnings = glyphs_warnings(docs)
    assert len(warnings) == 3  # 𠮷, 田, 🌸
    assert asked == [1]  # the coverage prepared once for the batch, not for each document
    assert any(w.startswith("le caractère « 𠮷 » (U+20BB7) de 001_Hana.docx ne s'affiche "
                            "avec aucune police installée : il manquera dans le PDF") and
               "fonts-noto-cjk" in w for w in warnings)
    assert any("« 🌸 » (U+1F338) de 002_Zoe.docx" in w and "fonts-symbola" in w
               for w in warnings)


def test_characters_are_read_by_pieces_as_whole(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The characters of a document read a few bytes at a time (runs and multi-byte
    characters cut between two pieces) are those of the document read whole (issue 21: the
    procès-verbal of a network's session is 60 million characters)."""
    import re
    import zipfile

    import certidocs.documents.pdf as pdf_module

    document = docx.Document()
    for k in range(40):
        document.add_paragraph(f"Ligne {k} : Zoé 🌸 𠮷田 « Œuvre » — n° {k}")
    path = tmp_path / "long.docx"
    document.save(str(path))
    with zipfile.ZipFile(path) as zf:
        whole = zf.read("word/document.xml").decode("utf-8")
        expected = {c for run in re.findall(r"<w:t(?:\s[^>]*)?>([^<]+)</w:t>", whole)
                    for c in run if ord(c) > 0x7E}
        for size in (1, 3, 7, 64, 1 << 20):
            monkeypatch.setattr(pdf_module, "GLYPHS_READ", size)
            assert pdf_module._characters(zf, "word/document.xml") == expected, size
    assert {"é", "🌸", "𠮷", "田", "Œ", "«", "—", "°"} <= expected


@pytest.mark.libreoffice
def test_case_name_outside_the_bmp_in_the_pdf(tmp_path: Path, cli_runner: CliRunner) -> None:
    """The case: every character reaches the PDF, or the command said it would not. Where
    the CI installs the fonts (.ci/run), both must be in the PDF."""
    besoin_libreoffice()
    if not CASE.is_file():
        pytest.fail(f"cas introuvable : {CASE}")
    root = tmp_path / "espace"
    assert cli_runner.invoke(main, ["init", str(root)]).exit_code == 0
    (root / "sessions" / "s1").mkdir(parents=True)
    shutil.copy(CASE, root / "sessions" / "s1" / "session.xlsx")
    result = cli_runner.invoke(main, ["documents", str(root / "sessions" / "s1"), "--type",
                                      "convocation_candidat", "--pdf"])
    output = result.output + (result.stderr or "")
    assert result.exit_code == 0, output
    folder = root / "sessions" / "s1" / "documents" / "convocation_candidat"
    text = "".join(pdf_text(p) for p in sorted(folder.glob("0*.pdf")))
    for char in HORS_BMP:
        assert char in text or f"« {char} » (U+{ord(char):04X})" in output, char
    if exiger_libreoffice():
        assert "Madame Hana 𠮷田" in text and "Zoé 🌸" in text
        assert "ne s'affiche avec aucune police" not in output
