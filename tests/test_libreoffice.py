"""LibreOffice headless: forced recalculation, PDF conversion, and failures said in French."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import openpyxl
import pytest
from gridtools import soffice

from certidocs import libreoffice
from certidocs.errors import LibreOfficeError, LibreOfficeIntrouvable
from certidocs.libreoffice import convert_to_pdf, find_soffice, recalculate

# A workbook as a spreadsheet saved it, with STALE cached results: B1 = A1*3 but says 999,
# C1 = A1&"x" but says « périmé ». Only a real recalculation on load can fix them.
_STALE = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
        'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        'worksheet+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Feuille" sheetId="1" r:id="rId1"/></sheets>'
        '<calcPr calcId="191029"/></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
    "xl/worksheets/sheet1.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1"><v>2</v></c><c r="B1"><f>A1*3</f><v>999</v></c>'
        '<c r="C1" t="str"><f>A1&amp;"x"</f><v>périmé</v></c></row></sheetData></worksheet>'),
}


def _stale_workbook(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in _STALE.items():
            zf.writestr(name, text.encode("utf-8"))
    return path


@pytest.mark.libreoffice
def test_recalculation_is_forced_on_load(tmp_path: Path) -> None:
    """Stale cached results are recomputed: LibreOffice's default would keep 999."""
    soffice()
    src = _stale_workbook(tmp_path / "perime.xlsx")
    before = openpyxl.load_workbook(src, data_only=True)["Feuille"]
    assert (before["B1"].value, before["C1"].value) == (999, "périmé")
    (out,) = recalculate([src], tmp_path / "recalcule")
    assert out == (tmp_path / "recalcule" / "perime.xlsx").resolve()
    after = openpyxl.load_workbook(out, data_only=True)["Feuille"]
    assert (after["B1"].value, after["C1"].value) == (6, "2x")
    assert openpyxl.load_workbook(out)["Feuille"]["B1"].value == "=A1*3"
    assert src.read_bytes()  # the original is untouched
    assert [p.name for p in (tmp_path / "recalcule").iterdir()] == ["perime.xlsx"]


@pytest.mark.libreoffice
def test_pdf_of_a_docx_and_a_workbook_in_one_batch(tmp_path: Path) -> None:
    """A Word document built with python-docx and a workbook: two PDFs, one LibreOffice."""
    soffice()
    import docx

    document = docx.Document()
    document.add_heading("Procès-verbal de session", level=1)
    document.add_paragraph("Candidate n° 001 — Élodie Lefèvre : « Certifié ».")
    word = tmp_path / "entree" / "proces-verbal.docx"
    word.parent.mkdir()
    document.save(word)
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Résultats"
    sheet = tmp_path / "entree" / "resultats.xlsx"
    wb.save(sheet)
    pdfs = convert_to_pdf([word, sheet], tmp_path / "pdf")
    assert [p.name for p in pdfs] == ["proces-verbal.pdf", "resultats.pdf"]
    for pdf in pdfs:
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF-") and len(data) > 500
    assert sorted(p.name for p in (tmp_path / "pdf").iterdir()) == ["proces-verbal.pdf",
                                                                    "resultats.pdf"]


# --- without LibreOffice: how failures are said -------------------------------------------------


def test_missing_libreoffice_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """No soffice anywhere: a French message naming the Debian packages."""
    monkeypatch.setattr(libreoffice.shutil, "which", lambda name: None)
    monkeypatch.setattr(libreoffice.Path, "is_file", lambda self: False)
    with pytest.raises(LibreOfficeIntrouvable) as info:
        find_soffice()
    message = str(info.value)
    assert "LibreOffice est introuvable" in message
    assert "apt-get install libreoffice-calc-nogui libreoffice-writer-nogui" in message


def _fake_soffice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    script = tmp_path / "faux-soffice"
    script.write_text(f"#!/bin/sh\nPATH=/usr/bin:/bin\n{body}\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(libreoffice, "find_soffice", lambda: str(script))


def _input(tmp_path: Path) -> Path:
    path = tmp_path / "entree" / "grille.xlsx"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_timeout_kills_libreoffice_and_says_so(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A conversion that hangs is stopped, with its children, and nothing is left."""
    _fake_soffice(tmp_path, monkeypatch, "sleep 60 & sleep 60")
    with pytest.raises(LibreOfficeError, match="n'a pas terminé en 1 secondes"):
        recalculate([_input(tmp_path)], tmp_path / "sortie", timeout=1)
    assert list((tmp_path / "sortie").iterdir()) == []


def test_failure_exit_code_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """soffice exits with an error: its code and last words."""
    _fake_soffice(tmp_path, monkeypatch, "echo 'Error: source file could not be loaded'; exit 3")
    with pytest.raises(LibreOfficeError, match=r"a échoué \(code 3\).*could not be loaded"):
        recalculate([_input(tmp_path)], tmp_path / "sortie")


def test_nothing_produced_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """soffice says nothing and produces nothing: the files not converted are named."""
    _fake_soffice(tmp_path, monkeypatch, "exit 0")
    with pytest.raises(LibreOfficeError, match=r"n'a pas converti : grille\.xlsx"):
        convert_to_pdf([_input(tmp_path)], tmp_path / "sortie")
    assert list((tmp_path / "sortie").iterdir()) == []


def test_bad_requests_are_refused_before_starting(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Missing input, output over the original, two inputs with one output name."""
    _fake_soffice(tmp_path, monkeypatch, "exit 99")
    assert recalculate([], tmp_path) == []
    with pytest.raises(LibreOfficeError, match="fichier introuvable"):
        recalculate([tmp_path / "absent.xlsx"], tmp_path / "sortie")
    src = _input(tmp_path)
    with pytest.raises(LibreOfficeError, match="remplacerait l'original"):
        recalculate([src], src.parent)
    other = tmp_path / "ailleurs" / "grille.xlsx"
    other.parent.mkdir()
    other.write_bytes(b"x")
    with pytest.raises(LibreOfficeError, match="même résultat"):
        recalculate([src, other], tmp_path / "sortie")
    assert src.read_bytes() == b"x"


# A soffice that, like LibreOffice 7.4 given hundreds of files, stops early and exits 0: it
# converts at most two files per call, never those named « casse… », and logs each call.
_STOPS_EARLY = """
out=""; n=0; count=0
for a in "$@"; do case "$a" in *.xlsx) count=$((count+1));; esac; done
echo "$count" >> "$APPELS"
while [ $# -gt 0 ]; do
  case "$1" in
    --outdir) out="$2"; shift 2;;
    --convert-to) shift 2;;
    -*) shift;;
    *) n=$((n+1)); b=$(basename "$1" .xlsx)
       case "$b" in casse*) ;; *) [ $n -le 2 ] && printf '%%PDF-1.4\n%%%%EOF\n' > "$out/$b.pdf";;
       esac; shift;;
  esac
done
exit 0
"""


def _inputs(tmp_path: Path, names: list[str]) -> list[Path]:
    folder = tmp_path / "entree"
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / f"{name}.xlsx").write_bytes(b"x")
    return [folder / f"{name}.xlsx" for name in names]


def test_batches_are_bounded_checked_and_retried(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """No call gets more than BATCH_FILES files; the files a call silently skipped are tried
    again by a fresh call, and every PDF is there in the end."""
    _fake_soffice(tmp_path, monkeypatch, _STOPS_EARLY)
    monkeypatch.setenv("APPELS", str(tmp_path / "appels"))
    monkeypatch.setattr(libreoffice, "BATCH_FILES", 3)
    sources = _inputs(tmp_path, [f"f{i}" for i in range(7)])
    produced = convert_to_pdf(sources, tmp_path / "sortie")
    assert [p.name for p in produced] == [f"f{i}.pdf" for i in range(7)]
    assert all(p.is_file() for p in produced)
    calls = [int(n) for n in (tmp_path / "appels").read_text().split()]
    assert calls == [2, 2, 3, 1]  # balanced batches; the third one's skipped file again


def test_files_failing_twice_are_named_in_a_short_list(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_soffice(tmp_path, monkeypatch, _STOPS_EARLY)
    monkeypatch.setenv("APPELS", str(tmp_path / "appels"))
    monkeypatch.setattr(libreoffice, "BATCH_FILES", 2)
    sources = _inputs(tmp_path, ["bon"] + [f"casse{i:02d}" for i in range(12)])
    with pytest.raises(LibreOfficeError) as failure:
        convert_to_pdf(sources, tmp_path / "sortie", processes=2)
    message = str(failure.value)
    assert "casse00.xlsx, casse01.xlsx" in message and "casse09.xlsx" in message
    assert "casse10" not in message and "et 2 autre(s)" in message
    assert "sur 13 fichier(s), même après une seconde tentative" in message
    assert list((tmp_path / "sortie").iterdir()) == []


def test_kept_profile_serves_first_attempts_and_a_retry_gets_a_fresh_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``profile``, every first attempt runs in the caller's profile (made once, with
    certidocs's settings, and used again); a batch's retry never does."""
    _fake_soffice(tmp_path, monkeypatch, 'echo "$1" >> "$PROFILS"\n' + _STOPS_EARLY)
    monkeypatch.setenv("APPELS", str(tmp_path / "appels"))
    monkeypatch.setenv("PROFILS", str(tmp_path / "profils"))
    monkeypatch.setattr(libreoffice, "BATCH_FILES", 3)
    monkeypatch.chdir(tmp_path)
    kept = tmp_path / "profil-garde"
    # relative, as under a session folder given relative on the command line
    convert_to_pdf(_inputs(tmp_path, ["a", "b"]), tmp_path / "sortie1",
                   profile=Path("profil-garde"))
    convert_to_pdf(_inputs(tmp_path, ["c", "d", "e"]), tmp_path / "sortie2", profile=kept)
    used = (tmp_path / "profils").read_text().split()
    mine = f"-env:UserInstallation={(kept / 'profil').as_uri()}"
    assert used[:2] == [mine, mine]  # two calls, one profile
    assert len(used) == 3 and used[2] != mine  # « e », skipped, retried in a fresh profile
    assert "MacroSecurityLevel" in (kept / "profil" / "user" /
                                    "registrymodifications.xcu").read_text(encoding="utf-8")


@pytest.mark.parametrize("piece", [5, 6, 7, 64])
def test_fields_are_found_whatever_the_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           piece: int) -> None:
    """A package's part is searched for fields by pieces (issue 21: the procès-verbal of a
    network's session is 32 MB of XML): a word cut between two pieces is found."""
    import zipfile

    import certidocs.libreoffice as lo

    monkeypatch.setattr(lo, "SCAN_BYTES", piece)
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for k in range(40):
            zf.writestr(f"p{k}.xml", "a" * k + "<w:instrText>PAGE</w:instrText>" + "b" * k)
        zf.writestr("none.xml", "<w:t>instruction sans champ : inst r</w:t>" * 3)
    with zipfile.ZipFile(path) as zf:
        assert all(lo._holds(zf, f"p{k}.xml", b"instr") for k in range(40))
        assert lo._holds(zf, "none.xml", b"instr")  # « instruction » holds it too
        assert not lo._holds(zf, "none.xml", b"instrText")
