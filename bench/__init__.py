"""Benchmarks (`make bench`, see bench/README.md).

`make bench` runs `python -m bench` from the repository root without PYTHONPATH, so the layer's
source is put on the path here, as `make dev` and the handlers see it; tracing stays off, as in
the local stack (there is no X-Ray daemon to send to)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_LAYER = str(Path(__file__).resolve().parents[1] / "layers" / "common")
if _LAYER not in sys.path:
    sys.path.insert(0, _LAYER)
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
