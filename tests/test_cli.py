"""CLI contract: every command has help text, errors are one line with the documented status."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hrdiscourse.cli import app

runner = CliRunner()


def _commands() -> list[str]:
    import typer.main

    group = typer.main.get_command(app)
    return sorted(group.commands)  # type: ignore[attr-defined]


def test_cli_has_the_documented_commands() -> None:
    assert {"analyze", "report", "version"} <= set(_commands())


@pytest.mark.parametrize("command", _commands())
def test_cli_every_command_has_help_text(command: str) -> None:
    import typer.main

    group = typer.main.get_command(app)
    cmd = group.commands[command]  # type: ignore[attr-defined]
    assert (cmd.help or "").strip(), f"command {command!r} has no help text"
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.stdout


def test_cli_report_on_missing_run_is_one_line(tmp_path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert result.stderr.startswith("hrdiscourse: error: ")
    assert len(result.stderr.strip().splitlines()) == 1
