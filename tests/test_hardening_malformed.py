"""Hardening — malformed files: one clear French message, exit 1, never a traceback.

session.xlsx truncated, not a workbook, with broken XML, a zip bomb or a million rows; grids in
the same states (each one an anomaly, the candidate « Incomplet »); référentiel sources and
settings saved in Latin-1. The zip bomb and the million rows run in a subprocess whose time and
peak memory (``os.wait4``) are measured: they are refused from the archive's declared sizes,
or by reading a bounded number of rows, never by inflating everything.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from helpers import FIXTURES, REFERENTIELS
from sessiondata import make_session

from certidocs.cli import main
from certidocs.session.reader import MAX_ROWS
from certidocs.signature import ensure_keys

MIO = 1024 * 1024
SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_eb68862eae6e4aa1.txt"


def _workspace(root: Path) -> Path:
    (root / "certidocs.toml").write_text('[grilles]\nmot_de_passe = ""\n', encoding="utf-8")
    ensure_keys(root)
    return root


def _one_clear_error(result: Result, *words: str) -> str:
    """Exit 1, one « Erreur : » line naming the problem in French, no traceback."""
    assert result.exit_code == 1, result.output + result.stderr
    assert isinstance(result.exception, SystemExit)
    text = result.stderr
    assert "Traceback" not in result.output + text
    assert "Erreur interne" not in text
    assert text.startswith("Erreur : ") and text.count("Erreur : ") == 1, text
    for word in words:
        assert word in text, text
    return text


def _rewrite(path: Path, replace: dict[str, Callable[[bytes], Iterable[bytes]] | None],
             target: Path | None = None, level: int = 1) -> Path:
    """Copy the zip at ``path`` with some parts replaced (streamed chunk by chunk) or dropped."""
    with zipfile.ZipFile(path) as src:
        parts = {n: src.read(n) for n in src.namelist()}
    out = target or path
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, data in parts.items():
            if name not in replace:
                zf.writestr(name, data)
                continue
            make = replace[name]
            if make is None:
                continue
            with zf.open(name, "w", force_zip64=True) as fh:
                for chunk in make(data):
                    fh.write(chunk)
    return out


# Runs the CLI and writes the process's peak resident memory (VmHWM, kB) to a file. VmHWM
# belongs to the program image: unlike wait4's ru_maxrss, it does not count the pytest process
# this one was forked from.
_PEAK = """
import os, sys
from certidocs.cli import main
try:
    main(sys.argv[1:], prog_name="certidocs")
finally:
    with open("/proc/self/status", encoding="ascii") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["HARDENING_PEAK"], "w", encoding="ascii") as out:
        out.write(peak)
"""


def _measured(args: list[str], cwd: Path) -> tuple[int, str, float, float]:
    """Run ``certidocs args`` in a subprocess: exit code, output, seconds, peak memory in MB."""
    if not Path("/proc/self/status").is_file():
        pytest.skip("mesure de la mémoire : /proc (Linux) nécessaire")
    peak_file = cwd / "memoire-maximale"
    env = {k: v for k, v in os.environ.items() if k != "CERTIDOCS_DEBUG"}
    env["HARDENING_PEAK"] = str(peak_file)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", _PEAK, *args], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    elapsed = time.monotonic() - start
    peak = int(peak_file.read_text(encoding="ascii")) / 1024
    return proc.returncode, proc.stdout.decode("utf-8"), elapsed, peak


# --- session.xlsx ---------------------------------------------------------------------------


@pytest.fixture
def session_file(tmp_path: Path) -> Path:
    """A clean session's session.xlsx (in s1/), to be spoilt."""
    return make_session(_workspace(tmp_path) / "s1") / "session.xlsx"


def test_session_truncated_zip(session_file: Path, cli_runner: CliRunner) -> None:
    """Half a session.xlsx (a download or a copy cut short)."""
    session_file.write_bytes(session_file.read_bytes()[: session_file.stat().st_size // 2])
    result = cli_runner.invoke(main, ["session", "verifier", "s1"])
    _one_clear_error(result, "session.xlsx", "tronqué")


@pytest.mark.parametrize("kind", ["pdf", "png", "csv", "vide", "docx", "zip"])
def test_session_not_a_workbook_renamed_xlsx(session_file: Path, cli_runner: CliRunner,
                                            kind: str) -> None:
    """A PDF, an image, a CSV, an empty file, a Word document or a plain zip named
    session.xlsx."""
    if kind == "docx":
        _rewrite(next((REFERENTIELS.parent / "templates").glob("*.docx")), {},
                 target=session_file)
    elif kind == "zip":
        with zipfile.ZipFile(session_file, "w") as zf:
            zf.writestr("candidats.csv", "N°;Nom\n1;Dupont\n")
    else:
        session_file.write_bytes({"pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
                                  "png": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
                                  "csv": "N° candidat;Nom\n001;Lefèvre\n".encode("cp1252"),
                                  "vide": b""}[kind])
    result = cli_runner.invoke(main, ["session", "verifier", "s1"])
    text = _one_clear_error(result, "session.xlsx", "n'est pas un classeur Excel")
    if kind == "docx":
        assert "document Word" in text


@pytest.mark.parametrize("part", ["xl/worksheets/sheet2.xml", "xl/workbook.xml",
                                  "xl/styles.xml"])
def test_session_with_broken_xml(session_file: Path, cli_runner: CliRunner, part: str) -> None:
    """A part cut in the middle of a tag (it used to escape as « Erreur interne »)."""
    _rewrite(session_file, {part: lambda data: [data[: len(data) // 3]]})
    result = cli_runner.invoke(main, ["session", "verifier", "s1"])
    _one_clear_error(result, "session.xlsx", "illisible ou abîmé", "XML invalide")


def test_session_with_an_entity_bomb(session_file: Path, cli_runner: CliRunner) -> None:
    """« Billion laughs » in the Candidats sheet: refused by the XML parser, not expanded."""
    entities = '<!ENTITY a0 "' + "ha" * 50 + '">' + "".join(
        f'<!ENTITY a{i} "' + f"&a{i - 1};" * 10 + '">' for i in range(1, 9))

    def bomb(data: bytes) -> list[bytes]:
        xml = data.decode("utf-8").replace("<worksheet", f"<!DOCTYPE worksheet [{entities}]>"
                                           "<worksheet", 1)
        xml, n = re.subn(r'(<c r="C2"[^>]*>)<is><t>[^<]*</t></is>', r"\1<is><t>&a8;</t></is>",
                         xml, count=1)
        assert n == 1
        return [xml.encode("utf-8")]

    _rewrite(session_file, {"xl/worksheets/sheet2.xml": bomb})
    result = cli_runner.invoke(main, ["session", "verifier", "s1"])
    _one_clear_error(result, "session.xlsx", "illisible ou abîmé")


def _bomb_cell(size: int) -> Callable[[bytes], Iterator[bytes]]:
    """A Candidats sheet whose cell C2 holds ``size`` bytes of « A »: one row, so no row
    limit could stop it; deflated, a few hundred kilobytes."""
    def make(data: bytes) -> Iterator[bytes]:
        xml = data.decode("utf-8")
        head, tail = re.split(r"<sheetData>.*</sheetData>|<sheetData\s*/>", xml, flags=re.S)
        yield (head + '<sheetData><row r="2"><c r="C2" t="inlineStr"><is><t>').encode()
        chunk = b"A" * MIO
        for _ in range(size // MIO):
            yield chunk
        yield ("</t></is></c></row></sheetData>" + tail).encode()
    return make


def test_session_zip_bomb_refused_before_decompressing(session_file: Path,
                                                      tmp_path: Path) -> None:
    """300 MB of text deflated to a few hundred kB: refused from the zip's directory, in a
    subprocess that never gets near 300 MB of memory, before pandas is even imported."""
    _rewrite(session_file, {"xl/worksheets/sheet2.xml": _bomb_cell(300 * MIO)})
    assert session_file.stat().st_size < 3 * MIO
    code, output, seconds, peak = _measured(["session", "verifier", "s1"], tmp_path)
    print(f"bombe zip de 300 Mo : refusée en {seconds:.2f} s, mémoire maximale {peak:.0f} Mo")
    assert code == 1, output
    assert "Traceback" not in output and "Erreur interne" not in output
    assert "bombe zip" in output and "xl/worksheets/sheet2.xml" in output
    assert "fichier refusé sans être lu" in output
    assert peak < 150, f"{peak:.0f} Mo"
    assert seconds < 10, f"{seconds:.1f} s"


def test_session_zip_bomb_message(session_file: Path, cli_runner: CliRunner) -> None:
    """The same refusal in-process: one message naming the file and the part."""
    _rewrite(session_file, {"xl/worksheets/sheet2.xml": _bomb_cell(64 * MIO)})
    result = cli_runner.invoke(main, ["session", "verifier", "s1"])
    _one_clear_error(result, "s1/session.xlsx : partie « xl/worksheets/sheet2.xml » "
                             "anormalement comprimée")


def _million_rows(data: bytes) -> Iterator[bytes]:
    """The Candidats sheet with its header row and a million numbered candidates."""
    xml = data.decode("utf-8")
    head, tail = re.split(r"<sheetData>.*</sheetData>", xml, flags=re.S)
    header = re.search(r'<row r="1".*?</row>', xml, flags=re.S)
    assert header is not None
    head = re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:T1000001"/>', head)
    yield (head + "<sheetData>" + header.group(0)).encode()
    for start in range(2, 1_000_002, 50_000):
        yield "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>{i:07d}</t></is></c>'
                      f'<c r="C{i}" t="inlineStr"><is><t>Nom{i}</t></is></c></row>'
                      for i in range(start, min(start + 50_000, 1_000_002))).encode()
    yield ("</sheetData>" + tail).encode()


def test_session_with_a_million_rows_refused_quickly(session_file: Path,
                                                     tmp_path: Path) -> None:
    """A million filled rows (130 MB of XML): refused with the sheet named, after reading
    only the first MAX_ROWS + 1 rows — in seconds, within Python's and pandas' own memory
    (reading them all takes 80 s and 700 MB)."""
    _rewrite(session_file, {"xl/worksheets/sheet2.xml": _million_rows})
    with zipfile.ZipFile(session_file) as zf:
        inflated = zf.getinfo("xl/worksheets/sheet2.xml").file_size / MIO
    code, output, seconds, peak = _measured(["session", "verifier", "s1"], tmp_path)
    print(f"un million de lignes ({inflated:.0f} Mo de XML) : refusé en {seconds:.2f} s, "
          f"mémoire maximale {peak:.0f} Mo")
    assert code == 1, output
    assert "Traceback" not in output and "Erreur interne" not in output
    assert f"la feuille « Candidats » dépasse {MAX_ROWS} lignes" in output
    # Python with pandas weighs some 90 MB; loading the rows would cost gigabytes.
    assert peak < 200, f"{peak:.0f} Mo pour {inflated:.0f} Mo de XML"
    assert seconds < 20, f"{seconds:.1f} s"


# --- grids through `certidocs resultats` ----------------------------------------------------


@pytest.mark.parametrize("kind", ["tronquée", "pdf", "docx", "bombe zip", "xml cassé", "vide"])
def test_damaged_grid_is_an_anomaly_never_a_traceback(tmp_path: Path, cli_runner: CliRunner,
                                                      kind: str) -> None:
    """A grid that is not a readable workbook: `resultats` completes, the candidate is
    « Incomplet » with one anomaly on the whole file, the others are untouched."""
    folder = make_session(_workspace(tmp_path) / "s1")
    assert cli_runner.invoke(main, ["grilles", "s1"]).exit_code == 0
    grid = folder / "grilles" / "001_LEFEVRE_Elodie.xlsx"
    words = {"tronquée": "tronqué", "pdf": "n'est pas un classeur", "docx": "document Word",
             "bombe zip": "bombe zip", "xml cassé": "illisible", "vide": "n'est pas un classeur"}
    if kind == "tronquée":
        grid.write_bytes(grid.read_bytes()[:4000])
    elif kind == "pdf":
        grid.write_bytes(b"%PDF-1.7\n")
    elif kind == "docx":
        _rewrite(next((REFERENTIELS.parent / "templates").glob("*.docx")), {}, target=grid)
    elif kind == "bombe zip":
        _rewrite(grid, {"xl/worksheets/sheet2.xml": _bomb_cell(40 * MIO)})
    elif kind == "xml cassé":
        _rewrite(grid, {"xl/workbook.xml": lambda data: [data[:100]]})
    else:
        grid.write_bytes(b"")
    result = cli_runner.invoke(main, ["resultats", "s1"])
    assert result.exit_code == 0, result.output + result.stderr
    assert "Traceback" not in result.output
    data = json.loads((folder / "resultats.json").read_text(encoding="utf-8"))
    assert [c["decision"] for c in data["candidats"]] == ["Incomplet"] * 3  # nobody filled
    mine = [a for a in data["anomalies"] if a["fichier"] == f"grilles/{grid.name}"]
    assert len(mine) == 1 and mine[0]["cellule"] == ""
    assert words[kind] in mine[0]["message"]


# --- text in Latin-1 ------------------------------------------------------------------------

# The few characters of the seed that Latin-1 lacks, as someone retyping it would write them.
_LATIN1 = str.maketrans({"œ": "oe", "Œ": "OE", "•": "-", "’": "'", "–": "-", "…": "..."})


def test_latin1_text_export_is_imported_like_its_utf8_original(tmp_path: Path,
                                                                cli_runner: CliRunner) -> None:
    """A seed-style export saved in Latin-1 imports exactly as the UTF-8 one, accents
    included, and the summary says the encoding was guessed."""
    if not SEED.is_file():
        pytest.skip(f"graine absente : {SEED}")
    text = SEED.read_text(encoding="utf-8").translate(_LATIN1)
    (tmp_path / "utf8.txt").write_text(text, encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes(text.encode("latin-1"))
    outputs = {}
    for name in ("utf8", "latin1"):
        result = cli_runner.invoke(main, ["referentiel", "importer", f"{name}.txt", "-o",
                                          f"{name}.yaml"])
        assert result.exit_code == 0, result.output + result.stderr
        outputs[name] = result.output
    assert "n'est pas en UTF-8 : lu comme Windows-1252" in outputs["latin1"]
    assert "UTF-8" not in outputs["utf8"]

    def content(name: str) -> dict[str, object]:
        data = yaml.safe_load((tmp_path / f"{name}.yaml").read_text(encoding="utf-8"))
        for key in ("code", "source"):  # from the file's name
            data["certification"].pop(key)
        data["a_verifier"] = [p for p in data["a_verifier"]
                              if p["chemin"] not in ("certification.code", "certification.source")]
        return dict(data)

    assert content("latin1") == content("utf8")
    assert "référencement" in (tmp_path / "latin1.yaml").read_text(encoding="utf-8")


def _rncp_latin1(tmp_path: Path, declared: bool) -> Path:
    source = FIXTURES / "import" / "export-fiches-rncp-v4-1-extract.xml"
    text = source.read_text(encoding="utf-8").translate(_LATIN1)
    body = text.split("?>", 1)[1] if text.startswith("<?xml") else text
    declaration = '<?xml version="1.0" encoding="ISO-8859-1"?>' if declared else ""
    path = tmp_path / ("declare.xml" if declared else "muet.xml")
    path.write_bytes((declaration + body).encode("latin-1"))
    return path


def test_latin1_rncp_export_without_declaration_is_one_clear_message(
        tmp_path: Path, cli_runner: CliRunner) -> None:
    """Latin-1 bytes in an XML file that does not say so: which line, what to do."""
    path = _rncp_latin1(tmp_path, declared=False)
    result = cli_runner.invoke(main, ["referentiel", "importer", path.name, "-o", "x.yaml"])
    _one_clear_error(result, "muet.xml : ligne", "hors UTF-8", 'encoding="ISO-8859-1"')
    assert not (tmp_path / "x.yaml").exists()


def test_latin1_rncp_export_with_its_declaration_is_read(tmp_path: Path,
                                                         cli_runner: CliRunner) -> None:
    """The same export declaring ISO-8859-1 is read, accents intact."""
    path = _rncp_latin1(tmp_path, declared=True)
    result = cli_runner.invoke(main, ["referentiel", "importer", path.name, "--fiche",
                                      "RNCP35340", "-o", "x.yaml"])
    assert result.exit_code == 0, result.output + result.stderr
    assert "é" in (tmp_path / "x.yaml").read_text(encoding="utf-8")


def test_latin1_referentiel_yaml_is_one_clear_message(tmp_path: Path,
                                                      cli_runner: CliRunner) -> None:
    """A référentiel YAML re-saved in Latin-1: refused with the line, no traceback."""
    text = (REFERENTIELS / "CPECOM.yaml").read_text(encoding="utf-8").translate(_LATIN1)
    (tmp_path / "CPECOM.yaml").write_bytes(text.encode("latin-1", errors="replace"))
    result = cli_runner.invoke(main, ["referentiel", "verifier", "CPECOM.yaml"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output + result.stderr
    assert "n'est pas encodé en UTF-8 : enregistrez-le en UTF-8" in result.stderr
    assert re.search(r"ligne \d+", result.stderr)


def test_latin1_settings_file_is_one_clear_message(tmp_path: Path,
                                                   cli_runner: CliRunner) -> None:
    """certidocs.toml saved in Latin-1 by a text editor (it used to be « Erreur interne »)."""
    (tmp_path / "certidocs.toml").write_bytes(
        '[organisme]\n# Réglages\nnom = "Société générale"\n'.encode("latin-1"))
    result = cli_runner.invoke(main, ["session", "creer", "s1", "--referentiel", "CPECOM"])
    _one_clear_error(result, "certidocs.toml : ligne 2", "pas encodé en UTF-8")
    assert not (tmp_path / "s1" / "session.xlsx").exists()
