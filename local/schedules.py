"""Scheduled functions (template.yaml events of Type Schedule) run locally on a daemon thread,
every LOCAL_SCHEDULE_SECONDS (default 60, as their rate(1 minute)); a failing run is logged and
the next one comes as on Lambda."""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime

from .functions import LocalFunction
from .template import Template


def start_schedules(template: Template, functions: dict[str, LocalFunction]) -> threading.Event:
    interval = float(os.environ.get("LOCAL_SCHEDULE_SECONDS", "60") or 60)
    scheduled = [
        logical_id
        for logical_id, spec in template.functions().items()
        if any(e.get("Type") == "Schedule" for e in spec.events.values())
    ]
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(interval):
            for logical_id in scheduled:
                event = {
                    "version": "0",
                    "source": "aws.events",
                    "detail-type": "Scheduled Event",
                    "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "detail": {},
                }
                try:
                    functions[logical_id].invoke(event)
                except Exception:
                    logging.getLogger("local").exception("scheduled %s failed", logical_id)

    if scheduled:
        threading.Thread(target=run, name="local-schedules", daemon=True).start()
    return stop
