"""Workbook bounds (issue 14): cells are streamed, never the declared rectangle.

Each case runs ``certidocs`` in a child process limited to 1 GiB of address space
(RLIMIT_AS, set by the child itself so that the parent's memory is not inherited by a fork)
and a deadline; its peak resident memory is the ``ru_maxrss`` that ``os.wait4`` returns for
that child alone. Before this change the first two cases took 5.8 GB and 8.7 GB, the
/dev/zero grid was killed for memory and the FIFO hung `resultats`.
"""

from __future__ import annotations

import json
import os
import random
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sessiondata import make_session

from certidocs.cli import main
from certidocs.grid.writer import grid_filename
from certidocs.session.reader import MAX_COLUMNS, MAX_ROWS, MAX_SHARED_STRINGS, read_session

GIB = 1024 ** 3
MIB = 1024 ** 2
LIMIT = 1 * GIB
DEADLINE = 120.0

_CHILD = """
import sys
from certidocs.cli import main
main(sys.argv[1:], prog_name="certidocs")
"""


def measured(args: list[str], cwd: Path) -> tuple[int, str, float]:
    """Run ``certidocs args`` under RLIMIT_AS 1 GiB: exit code, output, peak RSS in MiB."""
    from hostiletools import run_bounded

    if not hasattr(os, "wait4"):
        pytest.skip("mesure de la mémoire : os.wait4 (Unix) nécessaire")
    env = {k: v for k, v in os.environ.items() if k != "CERTIDOCS_DEBUG"}
    env["CERTIDOCS_PROCESSUS"] = "1"
    result = run_bounded(["-c", _CHILD, *args], memory=LIMIT, cpu_seconds=int(DEADLINE),
                         cwd=cwd, env=env, deadline=DEADLINE)
    if result.timed_out:
        pytest.fail(f"certidocs {' '.join(args)} : toujours en cours après {DEADLINE:.0f} s")
    return result.code, result.stdout + result.stderr, result.peak_mib


def _workspace(root: Path) -> Path:
    (root / "certidocs.toml").write_text('[grilles]\nmot_de_passe = ""\n', encoding="utf-8")
    return root


@pytest.fixture
def s1(tmp_path: Path) -> Path:
    """A clean session (``s1/``) in a workspace."""
    return make_session(_workspace(tmp_path) / "s1")


def _rewrite(path: Path, part: str, make: Iterator[bytes] | bytes,
             others: dict[str, bytes] | None = None) -> None:
    """Replace (or add) one part of the workbook at ``path``, streamed when ``make`` is an
    iterator; ``others`` replace small parts whole."""
    with zipfile.ZipFile(path) as src:
        parts = {n: src.read(n) for n in src.namelist()}
    parts.setdefault(part, b"")
    parts.update(others or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in parts.items():
            if name != part:
                zf.writestr(name, data)
                continue
            with zf.open(name, "w", force_zip64=True) as fh:
                for chunk in ([make] if isinstance(make, bytes) else make):
                    fh.write(chunk)


def _candidats_part(s1: Path) -> tuple[str, bytes]:
    with zipfile.ZipFile(s1 / "session.xlsx") as zf:
        return "xl/worksheets/sheet2.xml", zf.read("xl/worksheets/sheet2.xml")


def _with_rows(xml: bytes, rows: bytes, dimension: bytes = b"") -> bytes:
    head, _, tail = xml.partition(b"</sheetData>")
    if dimension:
        start = head.find(b"<dimension ")
        end = head.find(b"/>", start) + 2
        head = head[:start] + b'<dimension ref="' + dimension + b'"/>' + head[end:]
    return head + rows + b"</sheetData>" + tail


def test_stray_cells_far_away_cost_nothing(s1: Path, tmp_path: Path) -> None:
    """Two empty formatted cells at ZZZ400 and A19999 and a dimension claiming the rectangle:
    a 35 kB file that took 5.8 GB; now only the cells that hold something are kept."""
    part, xml = _candidats_part(s1)
    _rewrite(s1 / "session.xlsx", part, _with_rows(
        xml, b'<row r="400"><c r="ZZZ400" s="1"/></row><row r="19999"><c r="A19999" s="1"/>'
             b"</row>", b"A1:ZZZ19999"))
    assert (s1 / "session.xlsx").stat().st_size < 40_000
    code, output, peak = measured(["session", "verifier", "s1"], tmp_path)
    print(f"cellules isolées en ZZZ400 et A19999 : mémoire maximale {peak:.0f} Mio")
    assert code == 0, output
    assert peak < 200, f"{peak:.0f} Mio"


def test_stray_cell_with_a_value_beyond_the_columns_is_refused_with_its_cell(
        s1: Path, tmp_path: Path) -> None:
    """A value at ZZZ400 (beyond Excel's last column): refused, named, in bounded memory."""
    part, xml = _candidats_part(s1)
    _rewrite(s1 / "session.xlsx", part, _with_rows(
        xml, b'<row r="400"><c r="ZZZ400" t="inlineStr"><is><t>x</t></is></c></row>'
             b'<row r="19999"><c r="A19999" t="inlineStr"><is><t>y</t></is></c></row>',
        b"A1:ZZZ19999"))
    code, output, peak = measured(["session", "verifier", "s1"], tmp_path)
    print(f"valeur en ZZZ400 : refusé, mémoire maximale {peak:.0f} Mio")
    assert code == 1
    assert (f"s1/session.xlsx : Candidats!ZZZ400 : la feuille « Candidats » dépasse "
            f"{MAX_COLUMNS} colonnes") in output
    assert "Traceback" not in output
    assert peak < 200, f"{peak:.0f} Mio"


def _million_cells(filled: bool) -> Iterator[bytes]:
    """A row of a million cells without references, in varied styles or texts: it deflates
    like real sheets (8 times), not like a zip bomb (which is refused before reading)."""
    rng = random.Random(14)
    yield b'<row r="2">'
    for _start in range(1, 1_000_001, 50_000):
        if filled:
            yield b"".join(b'<c t="inlineStr"><is><t>%x</t></is></c>' % rng.randrange(1 << 32)
                           for _ in range(50_000))
        else:
            yield b"".join(b'<c s="%d"/>' % rng.randrange(100) for _ in range(50_000))
    yield b"</row>"


@pytest.mark.parametrize("filled", [False, True], ids=["vides", "remplies"])
def test_one_row_of_a_million_cells(s1: Path, tmp_path: Path, filled: bool) -> None:
    """A row of a million cells (8.7 GB before): empty ones are streamed past in flat
    memory; filled ones are refused at the first column over the limit."""
    part, xml = _candidats_part(s1)
    head, _, tail = xml.partition(b"</sheetData>")

    def content() -> Iterator[bytes]:
        yield head
        yield from _million_cells(filled)
        yield b"</sheetData>" + tail

    _rewrite(s1 / "session.xlsx", part, content())
    code, output, peak = measured(["session", "verifier", "s1"], tmp_path)
    print(f"une ligne d'un million de cellules {'remplies' if filled else 'vides'} : "
          f"mémoire maximale {peak:.0f} Mio")
    if filled:
        assert code == 1
        assert (f"Candidats!IW2 : la feuille « Candidats » dépasse {MAX_COLUMNS} colonnes"
                in output), output
    else:
        assert code == 0, output
    assert "Traceback" not in output
    assert peak < 250, f"{peak:.0f} Mio"


def test_too_many_shared_strings_refused(s1: Path, tmp_path: Path) -> None:
    """More distinct texts than MAX_SHARED_STRINGS: refused while reading them, bounded."""
    def strings() -> Iterator[bytes]:
        yield (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
               b'openxmlformats.org/spreadsheetml/2006/main">')
        for start in range(0, MAX_SHARED_STRINGS + 1, 50_000):
            yield b"".join(b"<si><t>%d</t></si>" % i
                           for i in range(start, min(start + 50_000, MAX_SHARED_STRINGS + 1)))
        yield b"</sst>"

    with zipfile.ZipFile(s1 / "session.xlsx") as zf:
        rels = zf.read("xl/_rels/workbook.xml.rels")
    rels = rels.replace(b"</Relationships>", b'<Relationship Id="rIdSST" Type="http://schemas.'
                        b"openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
                        b'" Target="sharedStrings.xml"/></Relationships>')
    _rewrite(s1 / "session.xlsx", "xl/sharedStrings.xml", strings(),
             {"xl/_rels/workbook.xml.rels": rels})
    code, output, peak = measured(["session", "verifier", "s1"], tmp_path)
    print(f"{MAX_SHARED_STRINGS + 1} textes partagés : refusé, mémoire maximale {peak:.0f} Mio")
    assert code == 1
    assert f"plus de {MAX_SHARED_STRINGS} textes différents" in output, output
    assert peak < 400, f"{peak:.0f} Mio"


def test_rows_beyond_the_limit_refused_with_their_cell(s1: Path) -> None:
    """A value below MAX_ROWS: the message names the cell (in-process: a small file)."""
    part, xml = _candidats_part(s1)
    row = MAX_ROWS + 1
    _rewrite(s1 / "session.xlsx", part, _with_rows(
        xml, b'<row r="%d"><c r="B%d" t="inlineStr"><is><t>x</t></is></c></row>' % (row, row)))
    from certidocs.errors import SessionError

    with pytest.raises(SessionError) as caught:
        read_session(s1)
    assert f"Candidats!B{row} : la feuille « Candidats » dépasse {MAX_ROWS} lignes" in str(
        caught.value)


# --- grids that are not ordinary files ----------------------------------------------------


@pytest.fixture
def with_grids(s1: Path, cli_runner: CliRunner) -> Path:
    result = cli_runner.invoke(main, ["grilles", "s1"])
    assert result.exit_code == 0, result.output + result.stderr
    return s1


def _first_grid(folder: Path) -> Path:
    return folder / "grilles" / grid_filename(read_session(folder).session.candidats[0])


def _results(folder: Path, tmp_path: Path) -> tuple[dict[str, object], float]:
    code, output, peak = measured(["resultats", "s1"], tmp_path)
    assert code == 0, output
    assert "Traceback" not in output
    return json.loads((folder / "resultats.json").read_text(encoding="utf-8")), peak


def _anomaly_of(data: dict[str, object], grid: Path) -> list[str]:
    anomalies = data["anomalies"]
    assert isinstance(anomalies, list)
    return [a["message"] for a in anomalies if a["fichier"] == f"grilles/{grid.name}"]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="/dev/zero (Unix) nécessaire")
def test_grid_symlinked_to_dev_zero_is_refused(with_grids: Path, tmp_path: Path) -> None:
    """A grid that is a symbolic link to /dev/zero: not followed out of the session folder."""
    grid = _first_grid(with_grids)
    grid.unlink()
    grid.symlink_to("/dev/zero")
    data, peak = _results(with_grids, tmp_path)
    print(f"grille liée à /dev/zero : mémoire maximale {peak:.0f} Mio")
    assert _anomaly_of(data, grid) == [
        "lien symbolique vers un fichier hors du dossier de la session (/dev/zero) : copiez "
        "le fichier lui-même dans le dossier"]
    assert peak < 300, f"{peak:.0f} Mio"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="os.mkfifo (Unix) nécessaire")
def test_grid_that_is_a_fifo_does_not_hang(with_grids: Path, tmp_path: Path) -> None:
    """A FIFO named like a grid: refused at once instead of waiting for a writer forever."""
    grid = _first_grid(with_grids)
    grid.unlink()
    os.mkfifo(grid)
    start = time.monotonic()
    data, _peak = _results(with_grids, tmp_path)
    assert time.monotonic() - start < 60
    assert _anomaly_of(data, grid) == [
        "ce n'est pas un fichier ordinaire mais un tube (FIFO) : il n'est pas lu"]


def test_grid_symlink_inside_the_session_folder_is_read(with_grids: Path,
                                                        tmp_path: Path) -> None:
    """A link to a grid kept elsewhere in the same session folder is an ordinary grid."""
    grid = _first_grid(with_grids)
    kept = with_grids / "rendues" / grid.name
    kept.parent.mkdir()
    grid.rename(kept)
    grid.symlink_to(kept)
    data, _peak = _results(with_grids, tmp_path)
    assert [m for m in _anomaly_of(data, grid) if not m.endswith("non évalué")] == []


def test_rlimit_is_really_applied(tmp_path: Path) -> None:
    """The child's limit is what the docstring says (guards the measurement itself): 2 GiB
    cannot be had under it, 100 MiB can, and the peak measured is the child's."""
    from hostiletools import run_bounded

    big = run_bounded(["-c", "b = bytearray(2 * 1024 ** 3)"], memory=LIMIT, cwd=tmp_path)
    assert big.code != 0 and "MemoryError" in big.stderr
    small = run_bounded(["-c", "b = bytearray(100 * 1024 ** 2); b[::4096] = b'x' * len(b[::4096])"],
                        memory=LIMIT, cwd=tmp_path)
    assert small.code == 0, small.stderr
    assert 100 <= small.peak_mib < 150


def test_grid_with_a_row_of_a_million_cells(with_grids: Path, tmp_path: Path) -> None:
    """A grid whose bloc sheet got a row of a million filled cells: an anomaly naming the
    first cell over the limit, the candidate « Incomplet », memory bounded."""
    from certidocs.grid.reader import MAX_COLUMNS as GRID_COLUMNS

    grid = _first_grid(with_grids)
    with zipfile.ZipFile(grid) as zf:
        xml = zf.read("xl/worksheets/sheet2.xml")
    head, _, tail = xml.partition(b"</sheetData>")

    def content() -> Iterator[bytes]:
        yield head
        yield from (chunk.replace(b'<row r="2">', b'<row r="500">')
                    for chunk in _million_cells(True))
        yield b"</sheetData>" + tail

    _rewrite(grid, "xl/worksheets/sheet2.xml", content())
    data, peak = _results(with_grids, tmp_path)
    print(f"grille avec une ligne d'un million de cellules : mémoire maximale {peak:.0f} Mio")
    messages = _anomaly_of(data, grid)
    assert len(messages) == 1 and messages[0].startswith(
        f"BC01!BM500 : la feuille « BC01 » dépasse {GRID_COLUMNS} colonnes"), messages
    anomalies = data["anomalies"]
    assert isinstance(anomalies, list)
    assert {a["cellule"] for a in anomalies if a["fichier"] == f"grilles/{grid.name}"} == {
        "BC01!BM500"}
    candidats = data["candidats"]
    assert isinstance(candidats, list) and candidats[0]["decision"] == "Incomplet"
    assert peak < 300, f"{peak:.0f} Mio"
