"""The README's shell examples marked `<!-- readme-example:shell -->` work as printed: each block
runs in one bash against the local stack (its API address swapped for the test stack's), and every
command's output matches the comment lines printed under it.

Under a command, "# text" is a line of its output and "#  text" (more indentation) continues the
line before; `…` stands for any text. Comments after a blank line describe the next command."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.stack import Stack

pytestmark = pytest.mark.e2e
BLOCK = re.compile(r"<!-- readme-example:shell -->\s*```sh\n(.*?)```", re.S)
LOCAL_API = "API=http://127.0.0.1:${LOCAL_API_PORT:-3000}"


@dataclass
class Example:
    command: str
    expected: list[str] = field(default_factory=list)

    def pattern(self) -> re.Pattern[str]:
        lines = [re.escape(line).replace("…", ".*?") for line in self.expected]
        return re.compile("\n".join(lines), re.S)


def examples(block: str) -> list[Example]:
    found: list[Example] = []
    current: Example | None = None
    continuing = False
    for line in block.splitlines():
        if not line.strip():
            current, continuing = None, False
        elif line.startswith("#"):
            if current is None:
                continue  # a description
            text = line[1:]
            if text.startswith("  ") and current.expected:
                current.expected[-1] += text.strip()
            else:
                current.expected.append(text.removeprefix(" "))
        elif continuing and found:
            found[-1].command += "\n" + line
            continuing = line.endswith("\\")
        else:
            current = Example(line)
            found.append(current)
            continuing = line.endswith("\\")
    return found


def readme_blocks() -> list[str]:
    return BLOCK.findall((ROOT / "README.md").read_text())


def test_the_readme_has_shell_examples_with_outputs() -> None:
    blocks = readme_blocks()
    assert blocks
    assert all(any(e.expected for e in examples(b)) for b in blocks)


@pytest.fixture(scope="module")
def fresh_stack() -> Iterator[Stack]:
    """A stack of its own, as `make dev` starts it: the README shows what its demo data answers,
    before any other test adds to it."""
    from tests.stack import running_stack

    with running_stack() as running:
        yield running


@pytest.mark.parametrize("number", range(len(readme_blocks())))
def test_given_the_readme_when_its_examples_run_then_they_print_what_it_shows(
    fresh_stack: Stack, number: int, tmp_path: Path
) -> None:
    stack = fresh_stack
    block = readme_blocks()[number]
    assert LOCAL_API in block
    steps = examples(block.replace(LOCAL_API, f"API={stack.url}"))
    script = ["set -u"]
    for index, step in enumerate(steps):
        script += [step.command, f'echo "<<<$?:{index}>>>"']
    run = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    outputs = re.split(r"<<<(\d+):(\d+)>>>\n?", run.stdout)
    assert len(outputs) == 3 * len(steps) + 1, run.stdout + run.stderr
    for index, step in enumerate(steps):
        output, status = outputs[3 * index], outputs[3 * index + 1]
        assert status == "0", f"{step.command}\nexited {status}: {run.stderr}"
        shown = "\n".join(line.rstrip() for line in output.strip().splitlines())
        if step.expected:
            assert step.pattern().fullmatch(shown), (
                f"{step.command}\nprinted:\n{shown}\nREADME shows:\n" + "\n".join(step.expected)
            )
