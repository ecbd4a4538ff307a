"""The local stack's EventBridge for what the product emits (budget threshold events): every
PutEvents entry is kept, in order, and shown at GET /local/emitted-events (newest last, each with
its detail-type and its detail as JSON). LOCAL_FAIL_EVENT_SENDS=N makes the next N sends fail,
for trying the outbox's recovery by hand."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

MAX_KEPT = 10_000


class LocalEmitter:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.failures = int(os.environ.get("LOCAL_FAIL_EVENT_SENDS", "0") or 0)
        self._lock = threading.Lock()

    def publisher(self, bus_name: str) -> LocalPublisher:
        return LocalPublisher(self, bus_name)

    def record(self, bus_name: str, entries: Sequence[Any]) -> list[bool]:
        with self._lock:
            if self.failures > 0:
                self.failures -= 1
                raise ConnectionError("local EventBridge: send refused (LOCAL_FAIL_EVENT_SENDS)")
            for entry in entries:
                self.entries.append(
                    {
                        "id": str(uuid.uuid4()),
                        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "source": "usage-pricing",
                        "event-bus-name": bus_name,
                        "detail-type": entry.detail_type,
                        "detail": entry.detail,
                    }
                )
            del self.entries[:-MAX_KEPT]
            return [True] * len(entries)

    def body(self) -> bytes:
        with self._lock:
            return json.dumps(self.entries).encode()


class LocalPublisher:
    def __init__(self, emitter: LocalEmitter, bus_name: str) -> None:
        self.emitter = emitter
        self.bus_name = bus_name

    def put(self, entries: Sequence[Any]) -> list[bool]:
        return self.emitter.record(self.bus_name, entries)
