"""The README's example blocks, read by the tests that hold the README to what the code does."""

from __future__ import annotations

import json
import re

from tests.conftest import ROOT


def readme_block(marker: str) -> object:
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- readme-example:{marker} -->\s*```json\n(.*?)```", text, re.S)
    assert match, marker
    return json.loads(match.group(1))
