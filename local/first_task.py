"""`make first-task [TASK=<task id>]`: the README's first deployed task (docs/operations.md).

Writes events/put-events.json to first-task.json with the task's times moved to now (it
completed just now, after running for its elapsed_ms), so billing prices it with the pricing live
now and the breakdown's recent ranges include it; TASK=<id> gives it another task id (the same id
again is a duplicate and bills nothing). Send it with
`aws events put-events --entries file://first-task.json`. With a local stack running (`make dev`,
found through .local-stack.json, local/state.py) it also writes first-task.local.json, the same
event as the local stack's POST /local/events takes it, and prints the command that sends it there."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .state import read_state

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
    state = read_state()
    if state is not None and isinstance(state.get("api_url"), str):
        local = Path(args.output).with_suffix(".local.json")
        events = [
            {
                "source": e["Source"],
                "detail-type": e["DetailType"],
                "detail": json.loads(e["Detail"]),
            }
            for e in entries
        ]
        local.write_text(json.dumps(events, indent=2) + "\n")
        print(
            f"or to the local stack at {state['api_url']}: curl -s -X POST "
            f"{state['api_url']}/local/events -H 'Content-Type: application/json' -d @{local}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
