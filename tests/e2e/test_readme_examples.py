"""The README followed as written, in order (docs/operations.md): every ```sh block of README.md runs, in
document order, in one bash against a stack of its own on free (non-default) ports, and every
command's output matches the comment lines the README prints under it.

The shell is a user's second terminal: LOCAL_API_PORT names the stack's port (so the README's
`API=http://127.0.0.1:${LOCAL_API_PORT:-3000}` is that stack), and nothing names its database:
`make audit`, `make api-key` and `make revoke-key` find the stack through its state file, as they
find the one `make dev` started (local/state.py). The blocks that need AWS, or that are the stack
itself, are skipped by name in SKIPPED, each with its reason; any other block runs.

Under a command, "# text" is a line of its output and "#  text" (more indentation) continues the
line before; `…` stands for any text (ids, times, figures that change with the day). Comments
after a blank line describe the next command. A command runs until bash would end it: a line
ending in `\\`, or inside an open quote, continues it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.stack import Stack, running_stack

pytestmark = pytest.mark.e2e
README = (ROOT / "README.md").read_text()
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
LOCAL_API = "API=http://127.0.0.1:${LOCAL_API_PORT:-3000}"

# Blocks not run, by their first line, and why.
SKIPPED = {
    "make dev       # the local stack: HTTP API on 127.0.0.1:3000, local DynamoDB, tables, dev key": (
        "`make dev` is the stack this test starts (on free ports); `make test` is the whole suite"
    ),
    "make sam-build                      # = sam build --parallel, with the pinned SAM CLI in .venv-sam": (
        "builds and deploys to AWS"
    ),
    "STACK=usage-pricing": "reads a deployed stack's outputs (AWS credentials)",
    "# 1. a key for your team, written to the deployed keys table (your AWS credentials)": (
        "a deployed stack's first key and task (AWS)"
    ),
    "DLQ_URL=…; DLQ_ARN=…; QUEUE_ARN=…    # outputs BillingDeadLetterQueueUrl, …Arn, BillingQueueArn": (
        "a deployed dead-letter queue (AWS)"
    ),
}


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)

    def pattern(self) -> re.Pattern[str]:
        lines = [re.escape(line).replace("…", ".*?") for line in self.expected]
        return re.compile("\n".join(lines), re.S)


def readme_blocks() -> list[tuple[str, str]]:
    """Every fenced block of the README in order: (language, text)."""
    return FENCE.findall(README)


def shell_blocks() -> list[str]:
    return [text for language, text in readme_blocks() if language == "sh"]


def run_blocks() -> list[str]:
    return [text for text in shell_blocks() if text.splitlines()[0] not in SKIPPED]


def open_quote(text: str, quote: str | None) -> str | None:
    """The quote still open at the end of `text` (None when none), starting inside `quote`."""
    escaped = False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote is None and char in "'\"":
            quote = char
        elif char == quote:
            quote = None
        elif quote is None and char == "#" and (index == 0 or text[index - 1].isspace()):
            break  # a comment to the end of the line
    return quote


def steps(block: str) -> list[Step]:
    found: list[Step] = []
    current: Step | None = None  # the step whose output comments may follow
    quote: str | None = None
    continuing = False
    for line in block.splitlines():
        if continuing:
            found[-1].command += "\n" + line
        elif not line.strip():
            current = None
            continue
        elif line.startswith("#"):
            if current is None:
                continue  # a description
            text = line[1:]
            if text.startswith("  ") and current.expected:
                current.expected[-1] += text.strip()
            else:
                current.expected.append(text.removeprefix(" "))
            continue
        else:
            current = Step(line)
            found.append(current)
        quote = open_quote(line, quote)
        continuing = quote is not None or line.endswith("\\")
    assert not continuing, f"a command is left open at the end of a block: {found[-1].command}"
    return found


def test_the_readme_s_shell_blocks_are_run_or_skipped_with_a_reason() -> None:
    firsts = [block.splitlines()[0] for block in shell_blocks()]
    assert set(SKIPPED) <= set(firsts), set(SKIPPED) - set(firsts)
    assert len(run_blocks()) >= 4
    # The first block that calls the API sets it from the stack's port; later ones reuse it.
    first_use = next(block for block in run_blocks() if "$API" in block)
    assert LOCAL_API in first_use


def test_given_the_quick_start_when_split_then_multi_line_commands_stay_whole() -> None:
    first = steps(run_blocks()[0])
    assert first[0].command.startswith("KEY=")
    evaluate = first[1]
    assert evaluate.command.startswith("curl -s -X POST $API/usage/cel/evaluate")
    assert evaluate.command.endswith('"usage_seconds": 45}\'')
    assert evaluate.expected[0].startswith('{"resource_fee":')


@pytest.fixture(scope="module")
def fresh_stack() -> Iterator[Stack]:
    """A stack of its own, as `make dev` starts it: the README shows what its demo data answers,
    before any other test adds to it."""
    with running_stack() as running:
        yield running


def user_shell(stack: Stack) -> dict[str, str]:
    """A user's second terminal: the API port known, nothing naming the database, not a sub-make
    of `make test` (which would print directories)."""
    env = {
        k: v
        for k, v in stack.env.items()
        if k not in ("LOCAL_DB_PORT", "LOCAL_API_PORT", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")
    }
    env["LOCAL_API_PORT"] = stack.url.rsplit(":", 1)[1]
    return env


def run_readme(stack: Stack, workdir: Path) -> tuple[list[Step], list[str], str]:
    """Every run block, in order, in one bash: each step's output, and bash's stderr."""
    all_steps = [step for block in run_blocks() for step in steps(block)]
    venv = "" if Path(sys.prefix).resolve() == (ROOT / ".venv").resolve() else f"VENV={sys.prefix}"
    # The README's `make` targets run in the repository, the files it downloads land here; a
    # suite run in another virtualenv (make test-py313) has make's targets use that one too.
    script = [
        "set -u",
        f'make() {{ command make --no-print-directory -C "{ROOT}" {venv} "$@"; }}',
    ]
    for index, step in enumerate(all_steps):
        script += [step.command, f'echo "<<<$?:{index}>>>"']
    run = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=workdir, env=user_shell(stack), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    parts = re.split(r"<<<(\d+):(\d+)>>>\n?", run.stdout)
    assert len(parts) == 3 * len(all_steps) + 1, run.stdout + run.stderr
    outputs = []
    for index, step in enumerate(all_steps):
        output, status = parts[3 * index], parts[3 * index + 1]
        assert status == "0", f"{step.command}\nexited {status}:\n{output}\n{run.stderr}"
        outputs.append("\n".join(line.rstrip() for line in output.strip().splitlines()))
    return all_steps, outputs, run.stderr


def json_block_after(marker: str) -> Any:
    found = re.search(rf"<!-- {marker} -->\s*```json\n(.*?)```", README, re.S)
    assert found, marker
    return json.loads(found.group(1))


def test_given_a_stack_on_other_ports_when_the_readme_runs_in_order_then_it_prints_what_it_shows(
    fresh_stack: Stack,
) -> None:
    stack = fresh_stack
    assert stack.db_port != 8000 and not stack.url.endswith(":3000")
    state = json.loads(Path(stack.env["LOCAL_STACK_STATE"]).read_text())
    assert state["dynamodb_endpoint"] == f"http://127.0.0.1:{stack.db_port}"

    with tempfile.TemporaryDirectory(prefix="readme-") as workdir:
        all_steps, outputs, stderr = run_readme(stack, Path(workdir))
    mismatches = [
        f"{step.command}\nprinted:\n{shown}\nREADME shows:\n" + "\n".join(step.expected)
        for step, shown in zip(all_steps, outputs, strict=True)
        if step.expected and not step.pattern().fullmatch(shown)
    ]
    assert not mismatches, "\n\n".join(mismatches) + "\n" + stderr

    # The backtest's answer is shown as a JSON block after its commands, abridged.
    (backtest,) = [
        out for step, out in zip(all_steps, outputs, strict=True) if "pricing/backtest" in step.command
    ]  # fmt: skip
    shown = json_block_after("readme-walkthrough:backtest")
    answer = json.loads(backtest)
    assert {k: answer[k] for k in shown} == shown
