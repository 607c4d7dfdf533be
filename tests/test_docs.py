"""Docs that cannot go stale: every CLI command and every setting must be documented in the README."""

from __future__ import annotations

from pathlib import Path

import typer.core
import typer.main

from whoknows.cli import app
from whoknows.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def all_commands() -> dict[str, typer.core.TyperCommand]:
    """Every command as its full name ("status", "people merge"), sub-commands included."""
    found: dict[str, typer.core.TyperCommand] = {}

    def walk(prefix: str, group: typer.core.TyperGroup) -> None:
        for name, command in group.commands.items():
            full = f"{prefix}{name}"
            if isinstance(command, typer.core.TyperGroup):
                walk(full + " ", command)
            else:
                found[full] = command

    walk("", typer.main.get_group(app))
    return found


def command_names() -> list[str]:
    return sorted(all_commands())


def test_every_command_is_documented() -> None:
    names = command_names()
    assert {"demo", "status", "import", "version"} <= set(names)
    missing = [n for n in names if f"`whoknows {n}" not in README]
    assert not missing, f"commands missing from README.md: {missing}"


def test_every_option_of_every_command_is_documented() -> None:
    missing = []
    for name, command in all_commands().items():
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt != "--help" and opt not in README:
                    missing.append(f"{name} {opt}")
    assert not missing, f"options missing from README.md: {missing}"


def test_every_setting_is_documented() -> None:
    missing = [f for f in Settings.model_fields if f"`WHOKNOWS_{f.upper()}`" not in README]
    assert not missing, f"settings missing from README.md: {missing}"


def test_readme_starts_with_two_setup_commands() -> None:
    setup = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    blocks = setup.split("```bash")[1:]
    assert len(blocks) == 2
    assert "whoknows demo" in blocks[0] and "pytest" in blocks[1]


def test_ci_runs_the_readme_test_command() -> None:
    setup = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    test_command = setup.split("```bash")[2].split("```")[0].strip()
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert test_command in ci
