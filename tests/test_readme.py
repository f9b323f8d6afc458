"""Every command in the README runs as written on a fresh clone."""

from __future__ import annotations

import re
from pathlib import Path

# -- 13, 14. every command in the README runs as written ------------------------------------

_README = Path(__file__).resolve().parent.parent / "README.md"


def _readme_commands() -> list[str]:
    """The command lines of the README's ``sh`` blocks (comments and continuations joined)."""
    blocks = re.findall(r"```(?:sh|bash|console)\n(.*?)```", _README.read_text(encoding="utf-8"), flags=re.S)
    text = "\n".join(blocks).replace("\\\n", " ")
    return [line.split(" #")[0].strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_every_readme_command_names_a_program_a_fresh_clone_has() -> None:
    # Bare `policyqa` is not on a fresh clone's PATH: the venv's script is, once `make setup` ran.
    commands = _readme_commands()
    programs = {line.split()[0] for line in commands}
    assert programs <= {"make", ".venv/bin/policyqa", ".venv/bin/python", ".venv/bin/ir_measures", "curl"}, programs
    assert any(line.startswith(".venv/bin/policyqa eval") for line in commands)


def test_no_readme_command_holds_usage_notation() -> None:
    # "[--json]" belongs in a usage line: pasted into a shell it is a glob, not an option.
    assert [line for line in _readme_commands() if re.search(r"\[--|\||<[A-Z]", line)] == []


def test_the_readme_documents_build_force() -> None:
    assert ".venv/bin/policyqa build --force" in _readme_commands()
