"""`make first-task [TASK=<task id>]`: the README's first deployed task (SPEC §12).

Writes events/put-events.json to first-task.json with the task's times moved to now (it
completed just now, after running for its elapsed_ms), so billing prices it with the pricing live
now and the breakdown's recent ranges include it; TASK=<id> gives it another task id (the same id
again is a duplicate and bills nothing). Send it with
`aws events put-events --entries file://first-task.json`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "events" / "put-events.json"


def _iso(moment: datetime) -> str:
    # Microseconds kept: a task stamped right after a publish completes after it.
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def stamped(
    entries: list[dict[str, Any]], now: datetime, task_id: str | None = None
) -> list[dict[str, Any]]:
    out = []
    for entry in entries:
        detail = json.loads(entry["Detail"])
        detail["completed_at"] = _iso(now)
        detail["started_at"] = _iso(now - timedelta(milliseconds=detail["elapsed_ms"]))
        if task_id:
            detail["task_id"] = task_id
        out.append({**entry, "Detail": json.dumps(detail, separators=(",", ":"))})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.first_task", description=__doc__)
    parser.add_argument("--task-id", default=None)
    parser.add_argument("--output", default="first-task.json")
    args = parser.parse_args(argv)
    entries = stamped(json.loads(SAMPLE.read_text()), datetime.now(UTC), args.task_id)
    Path(args.output).write_text(json.dumps(entries, indent=2) + "\n")
    detail = json.loads(entries[0]["Detail"])
    print(f"wrote {args.output}: task {detail['task_id']} of {detail['team_id']}, ", end="")
    print(f"completed {detail['completed_at']}")
    print(f"send it: aws events put-events --entries file://{args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
