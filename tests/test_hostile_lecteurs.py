"""Hostile référentiel files: every reader bounds what it materialises.

Each case runs the real command in a child limited to 1 GiB of address space and measures
its peak resident memory (see hostiletools): the expected French message, exit 1, nothing
written, and memory far below the limit.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
from hostiletools import run_bounded

EMPTY_PARAGRAPHS = 4_000_000


def _docx_with_empty_paragraphs(path: Path, count: int) -> Path:
    """A real référentiel-like document (one table) followed by ``count`` empty paragraphs:
    half a megabyte compressed, 24 MB of XML, millions of elements."""
    document = docx.Document()
    table = document.add_table(rows=2, cols=4)
    for i, title in enumerate(["Activités", "Compétences", "Modalités", "Critères"]):
        table.cell(0, i).text = title
    base = path.with_suffix(".base.docx")
    document.save(str(base))
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename != "word/document.xml":
                zout.writestr(info, data)
                continue
            text = data.decode()
            cut = text.index("<w:sectPr")
            with zout.open("word/document.xml", "w", force_zip64=True) as sink:
                sink.write(text[:cut].encode())
                block = b"<w:p/>" * 100_000
                for _ in range(count // 100_000):
                    sink.write(block)
                sink.write(text[cut:].encode())
    base.unlink()
    return path


def _import(tmp_path: Path, source: Path) -> tuple[int, str, float]:
    result = run_bounded(["-m", "certidocs", "referentiel", "importer", str(source),
                          "-o", str(tmp_path / "sortie.yaml")], cwd=tmp_path)
    return result.code, result.stdout + result.stderr, result.peak_mib


def test_docx_with_millions_of_empty_paragraphs(tmp_path: Path) -> None:
    source = _docx_with_empty_paragraphs(tmp_path / "referentiel.docx", EMPTY_PARAGRAPHS)
    assert source.stat().st_size < 1_000_000
    code, output, peak = _import(tmp_path, source)
    assert code == 1, output
    assert "le document contient plus de 50000 paragraphes" in output
    assert "referentiel.docx" in output and "Traceback" not in output
    assert peak < 150, f"pic mémoire {peak:.0f} Mio"
    assert not (tmp_path / "sortie.yaml").exists()


def _verify(tmp_path: Path, text: str) -> tuple[int, str, float]:
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_bounded(["-m", "certidocs", "referentiel", "verifier", str(path)],
                         cwd=tmp_path)
    return result.code, result.stdout + result.stderr, result.peak_mib


def test_yaml_billion_laughs(tmp_path: Path) -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")
    lines.append("certification: *a9")
    text = "\n".join(lines) + "\n"
    assert len(text) < 1000
    code, output, peak = _verify(tmp_path, text)
    assert code == 1, output
    assert "plus de 200000 valeurs une fois les alias (*nom) développés" in output
    assert "hostile.yaml" in output and "Traceback" not in output
    assert peak < 150, f"pic mémoire {peak:.0f} Mio"


def test_yaml_recursive_alias(tmp_path: Path) -> None:
    code, output, _ = _verify(tmp_path, "certification: &boucle\n  - *boucle\n")
    assert code == 1, output
    assert "alias imbriqués sur plus de 32 niveaux (alias récursif ?)" in output
    assert "(ligne " in output and "Erreur interne" not in output


def test_yaml_5000_digit_number(tmp_path: Path) -> None:
    code, output, _ = _verify(tmp_path, "certification:\n  seuil: " + "9" * 5000 + "\n")
    assert code == 1, output
    assert "nombre de 5000 caractères (au plus 30)" in output
    assert "(ligne 2)" in output and "Erreur interne" not in output


def test_yaml_deep_nesting(tmp_path: Path) -> None:
    code, output, peak = _verify(tmp_path, "certification: " + "[" * 20_000 + "]" * 20_000)
    assert code == 1, output
    assert "imbriquées sur plus de 32 niveaux" in output
    assert "(ligne 1)" in output and "Erreur interne" not in output
    assert peak < 150, f"pic mémoire {peak:.0f} Mio"


def test_yaml_too_large_file(tmp_path: Path) -> None:
    code, output, peak = _verify(tmp_path, "# " + "x" * (6 * 1024 * 1024) + "\n")
    assert code == 1, output
    assert "trop gros pour un référentiel (au plus 5 Mo)" in output
    assert peak < 150, f"pic mémoire {peak:.0f} Mio"
