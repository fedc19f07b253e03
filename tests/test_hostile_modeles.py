"""Hostile Word templates: nothing beyond the documented variables, bounded time and size."""

from __future__ import annotations

import time
from pathlib import Path

import docx
import pytest
from hostiletools import run_bounded

from certidocs.documents import render
from certidocs.documents.render import Template
from certidocs.errors import ModeleError


def _template(path: Path, *paragraphs: str) -> Path:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def _refused(tmp_path: Path, tag: str, context: dict[str, object] | None = None) -> str:
    path = _template(tmp_path / "lettre.docx", "Bonjour", tag)
    target = tmp_path / "sortie.docx"
    with pytest.raises(ModeleError) as caught:
        Template(path).render_to(context or {"nom": "Durand", "liste": [1, 2]}, target)
    assert not target.exists()
    return str(caught.value)


@pytest.mark.parametrize(("tag", "refused"), [
    ("{{ ''.__class__.__mro__ }}", "attribut interne « __mro__ »"),
    ("{{ nom.__class__.__base__.__subclasses__() }}", "appel de fonction « __subclasses__(…) »"),
    ("{{ nom['__class__'] }}", "clé interne « __class__ »"),
    ("{{ nom.upper() }}", "appel de fonction « upper(…) »"),
    ("{% macro f() %}x{% endmacro %}{{ nom }}", "macro"),
    ("{% include 'autre.docx' %}", "« include » d'un autre fichier"),
])
def test_internals_and_calls_refused_with_tag_quoted(tmp_path: Path, tag: str,
                                                      refused: str) -> None:
    message = _refused(tmp_path, tag)
    assert "modèle lettre.docx" in message
    assert f"balise refusée ({refused})" in message
    assert "LISEZMOI.md" in message
    assert f"dans le texte « {tag.split('%}')[0]}" in message  # the tag itself is quoted


def test_shell_command_family_never_runs(tmp_path: Path) -> None:
    """The tag that ran a shell command through Jinja's globals: refused, nothing executed."""
    witness = tmp_path / "pirate"
    tags = [
        "{{ cycler.__init__.__globals__.os.popen('touch " + str(witness) + "').read() }}",
        "{{ lipsum.__globals__['os'].popen('touch " + str(witness) + "').read() }}",
        "{{ self._TemplateReference__context.cycler.__init__.__globals__.os }}",
    ]
    for tag in tags:
        message = _refused(tmp_path, tag)
        assert "balise refusée" in message
    assert not witness.exists()


def test_globals_are_gone(tmp_path: Path) -> None:
    message = _refused(tmp_path, "{% for i in range(10) %}{{ i }}{% endfor %}")
    assert "appel de fonction « range(…) »" in message
    for name in ("range", "lipsum", "cycler", "namespace", "dict", "joiner"):
        assert f"variable inconnue « {name} »" in _refused(tmp_path, "{{ " + name + " }}")


def test_filters_outside_the_list_refused(tmp_path: Path) -> None:
    message = _refused(tmp_path, "{{ nom|attr('upper') }}")
    assert "filtre « attr » inconnu ou non permis" in message
    for allowed in ("{{ nom|upper }}", "{{ nom|default('x')|trim }}", "{{ liste|length }}"):
        path = _template(tmp_path / "permis.docx", allowed)
        Template(path).render_to({"nom": "Durand", "liste": [1]}, tmp_path / "ok.docx")


def test_huge_repetition_refused(tmp_path: Path) -> None:
    message = _refused(tmp_path, "{{ 'x' * 1000000000 }}")
    assert "répétition de 1000000000 fois refusée (au plus 10000)" in message
    message = _refused(tmp_path, "{{ 10 ** 100000 }}")
    assert "puissance 100000 refusée" in message


def test_nested_loops_stop_at_the_time_budget(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "MAX_RENDER_SECONDS", 1)
    tag = ("{% for a in liste %}{% for b in liste %}{% for c in liste %}"
           "{% endfor %}{% endfor %}{% endfor %}")
    start = time.monotonic()
    message = _refused(tmp_path, tag, {"liste": list(range(3000))})
    assert time.monotonic() - start < 20
    assert "plus de 1 secondes" in message and "lettre.docx" in message


def test_output_bounded_in_size_and_memory(tmp_path: Path) -> None:
    """A loop printing 10 000 × 10 000 × 100 characters (10 GB) stops at MAX_DOCUMENT_CHARS,
    in a child limited to 1 GiB, well under it."""
    path = _template(tmp_path / "gros.docx", "{% for a in liste %}{% for b in liste %}"
                     "{{ 'x' * 100 }}{% endfor %}{% endfor %}")
    code = ("import sys; from pathlib import Path; from certidocs.documents.render import "
            "Template; from certidocs.errors import ModeleError\n"
            "try:\n"
            f"    Template(Path({str(path)!r})).render_to({{'liste': list(range(10000))}}, "
            f"Path({str(tmp_path / 'out.docx')!r}))\n"
            "except ModeleError as e:\n    print(e); sys.exit(1)\n")
    result = run_bounded(["-c", code], cpu_seconds=120)
    assert result.code == 1, result.stderr
    assert "le document dépasserait 50\u202f000\u202f000 caractères" in result.stdout
    assert result.peak_mib < 700, result.peak_mib
    assert not (tmp_path / "out.docx").exists()
