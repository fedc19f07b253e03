"""`certidocs console` and `certidocs deposer` from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from consoletools import SESSION, copy_sample, demo_workspace, fill_grids_as_jurors

from certidocs.cli import main


def test_console_prints_a_local_address_with_a_token_and_opens_no_browser_when_asked(
        tmp_path: Path, cli_runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    import webbrowser

    import uvicorn

    served: list[object] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self: served.append(self.config))
    monkeypatch.setattr(webbrowser, "open", lambda url: pytest.fail("navigateur ouvert"))
    espace = demo_workspace(tmp_path / "espace")
    result = cli_runner.invoke(main, ["console", str(espace), "--port", "8799",
                                      "--sans-navigateur"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8799/?token=" in result.output
    config = served[0]
    assert config.host == "127.0.0.1" and config.port == 8799  # type: ignore[attr-defined]


def test_console_help_is_french(cli_runner: CliRunner) -> None:
    result = cli_runner.invoke(main, ["console", "--help"])
    assert result.exit_code == 0
    assert "127.0.0.1" in result.output and "--sans-navigateur" in result.output


def test_deposer_places_returned_grids_and_refuses_overwriting_other_input(
        tmp_path: Path, cli_runner: CliRunner) -> None:
    espace = demo_workspace(tmp_path / "espace")
    folder = copy_sample(espace)
    assert cli_runner.invoke(main, ["grilles", str(folder)]).exit_code == 0
    filled = fill_grids_as_jurors(folder, tmp_path / "retour")
    blank = tmp_path / "vierge" / filled[0].name
    blank.parent.mkdir()
    blank.write_bytes((folder / "grilles" / filled[0].name).read_bytes())
    result = cli_runner.invoke(main, ["deposer", str(folder), *map(str, filled[:2])])
    assert result.exit_code == 0, result.output
    assert result.output.count("rangée dans") == 2
    renamed = tmp_path / "autre.xlsx"
    renamed.write_bytes(filled[1].read_bytes())
    result = cli_runner.invoke(main, ["deposer", str(folder), str(blank)])
    assert result.exit_code == 1 and "contient une autre saisie" in result.stderr
    assert (folder / "grilles" / filled[0].name).read_bytes() == filled[0].read_bytes()
    result = cli_runner.invoke(main, ["deposer", str(folder), str(blank), "--remplacer"])
    assert result.exit_code == 0 and "remplacée" in result.output
    result = cli_runner.invoke(main, ["deposer", str(folder), str(renamed)])
    assert result.exit_code == 0 and "rangée" in result.output
    assert (folder / "grilles" / filled[1].name).read_bytes() == filled[1].read_bytes()
    assert SESSION in str(folder)
