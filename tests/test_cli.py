"""The command line as a whole: French help everywhere, usage errors, no tracebacks."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from certidocs.cli import main


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            found += _commands(cmd, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


COMMANDS = _commands(main)


@pytest.mark.parametrize("words", COMMANDS, ids=[" ".join(c) or "certidocs" for c in COMMANDS])
def test_every_command_has_french_help(cli_runner: CliRunner, words: tuple[str, ...]) -> None:
    """Each command's --help is in French and describes it (no English click boilerplate)."""
    result = cli_runner.invoke(main, [*words, "--help"])
    assert result.exit_code == 0
    assert "Utilisation :" in result.output
    assert "Afficher cette aide et quitter." in result.output
    for english in ("Usage:", "Show this message", "Commands:", "Options:", "Commandes:"):
        assert english not in result.output
    assert "Options :" in result.output
    command = main
    for w in words:
        command = command.commands[w]  # type: ignore[attr-defined]
    assert command.help and len(command.help) > 20


def test_unknown_command_is_a_french_usage_error(cli_runner: CliRunner) -> None:
    """A typo in a command name exits 2 with a French message."""
    result = cli_runner.invoke(main, ["referentiel", "verifer", "x.yaml"])
    assert result.exit_code == 2
    assert "Commande inconnue" in result.stderr


def test_missing_argument_is_a_french_usage_error(cli_runner: CliRunner) -> None:
    """A command without its argument exits 2 and says so in French."""
    result = cli_runner.invoke(main, ["init"])
    assert result.exit_code == 2
    assert "Argument manquant" in result.stderr


def test_version(cli_runner: CliRunner) -> None:
    """`--version` prints the package version."""
    result = cli_runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("certidocs, version ")
