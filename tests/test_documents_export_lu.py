"""resultats.json is compared with the register a candidate at a time (issue 21): the pieces it
is read in give the candidates json.loads gives, whatever the cut, and a damaged export is
said to be unreadable, as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from certidocs import production

EXPORTS = [
    {"session": "S", "referentiel": "R", "candidats": [
        {"numero": "001", "decision": "Certifié", "blocs": {"BC01": {"acquis": 12, "taux": 0.6}},
         "rattrapage_jusqu_au": None},
        {"numero": "002", "nom": "Zoé 🌸 « N'Diaye »", "decision": "Non certifié",
         "blocs": {}, "rattrapage_possible": True, "note": 12345678901234567890}],
     "anomalies": [{"fichier": "x", "cellule": "A1", "message": "m"}]},
    {"anomalies": [1, 2, [3, {"a": "]"}]], "candidats": [], "session": "S"},
    {"candidats": [{"numero": 7, "blocs": {}, "decision": "Absent"}]},
]


@pytest.mark.parametrize("export", EXPORTS)
@pytest.mark.parametrize("piece", [1, 2, 7, 64, 1 << 18])
def test_candidates_read_by_pieces_are_those_of_the_whole_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, export: dict[str, object],
        piece: int) -> None:
    monkeypatch.setattr(production, "EXPORT_LECTURE", piece)
    path = tmp_path / "resultats.json"
    for indent in (None, 2):
        path.write_text(json.dumps(export, ensure_ascii=False, indent=indent), encoding="utf-8")
        assert list(production._candidats_exportes(path)) == export["candidats"]


@pytest.mark.parametrize("text", ['{"session": "S"}', '[1, 2]', '{"candidats": {"a": 1}}',
                                  '{"candidats": [{"numero": "001"}', '{"candidats": [1 2]}',
                                  '', '{"candidats": [{"numero": "001"},]}'])
def test_a_damaged_export_is_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        text: str) -> None:
    monkeypatch.setattr(production, "EXPORT_LECTURE", 3)
    path = tmp_path / "resultats.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError):
        list(production._candidats_exportes(path))
    ecarts = production._EcartsExport(tmp_path)
    assert len(ecarts.fin()) == 1 and "illisible" in ecarts.fin()[0]
