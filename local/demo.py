"""Demo data for the local stack, produced through the real paths: pricing is edited and
published through the HTTP API with the dev key, and task events are billed through
POST /local/events' queue path. Nothing is written to a table directly. About 200 tasks bill in
about 4 s on a quiet 2-core machine (calibration 10 ms; 8.4 s before the local database applied
counter updates directly, local/atomic.py; figures in bench/README.md), most of it the local
database's request handling."""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from .events import LocalEventBus
from .stack import LocalApi

TEAM = "team_local"
PRICING = {
    f"{TEAM}/flux-dev": {
        "prices": {"per_image": 200_000, "per_megapixel": 50_000},
        "inference_expression": "image_count(output_meta.outputs) * prices.per_image",
        "description": '"$" + to_dollars(prices.per_image) + " per image"',
    },
    f"{TEAM}/chat-llm": {
        "prices": {"per_1k_input": 15_000, "per_1k_output": 60_000},
        "inference_expression": "text_tokens(inputs) * prices.per_1k_input / 1000 + text_tokens(outputs) * prices.per_1k_output / 1000",
        "description": "Per 1K tokens, input and output priced separately",
    },
    # A minimum charge: what the resource fee does not reach shows as `adjustment` in group_by=fee.
    f"{TEAM}/whisper": {
        "prices": {"minimum": 25_000_000},
        "total_expression": "max(resource_fee + inference_fee, prices.minimum)",
        "description": "Resource time, at least $0.25 a run",
    },
}
APPS = {
    f"{TEAM}/flux-dev": ("standard/sm", "image"),
    f"{TEAM}/chat-llm": ("llm/micro", "text"),
    f"{TEAM}/whisper": ("standard/micro", "audio"),
    # Older apps with no published pricing (resource time only), seen in the history only.
    f"{TEAM}/upscaler": ("standard/sm", "image"),
    f"{TEAM}/embedder": ("llm/micro", "text"),
}
# The history before the last week: 90 days, weekdays busier than weekends, each app with its
# own share of the traffic; a few failed runs (charged nothing) and a few refunds. flux-dev is the
# newest app (a week old, load_demo's own tasks only), so the README's flux-dev backtest shows the
# same figures whatever day the stack starts on.
HISTORY_DAYS = 90
WEEKDAY_TASKS = (1, 4)  # inclusive range of tasks per weekday
WEEKEND_TASKS = (0, 1)
HISTORY_WEIGHTS = {
    f"{TEAM}/chat-llm": 5,
    f"{TEAM}/whisper": 2,
    f"{TEAM}/upscaler": 2,
    f"{TEAM}/embedder": 1,
}
HISTORY_FAILURES = 0.04
HISTORY_REFUNDS = 4


def _request(api: LocalApi, method: str, path: str, body: Any | None = None) -> Any:
    headers = {
        "authorization": f"Bearer {os.environ.get('LOCAL_API_KEY', 'inf_local_dev')}",
        "x-api-version": "2",
        "content-type": "application/json",
    }
    status, _, out = api.handle(
        method, path, headers, json.dumps(body).encode() if body is not None else b"", "127.0.0.1"
    )
    if status >= 400:
        raise RuntimeError(f"demo {method} {path} failed: {status} {out.decode()}")
    return json.loads(out)


def demo_event(
    index: int | str,
    app: str,
    completed_at: datetime,
    rng: random.Random,
    status: str = "completed",
) -> dict[str, Any]:
    meter, kind = APPS[app]
    if isinstance(index, int):
        tier = "cloud" if index % 5 else "private"
    else:
        tier = "private" if rng.random() < 0.2 else "cloud"
    elapsed_ms = rng.randint(2_000, 240_000)
    if kind == "image":
        outputs = [{"type": "image", "width": 1024, "height": 1024, "count": rng.randint(1, 4)}]
        inputs: list[dict[str, Any]] = [{"type": "text", "tokens": rng.randint(10, 80)}]
    elif kind == "text":
        inputs = [{"type": "text", "tokens": rng.randint(200, 4_000)}]
        outputs = [{"type": "text", "tokens": rng.randint(50, 1_500)}]
    else:
        inputs = [{"type": "audio", "seconds": round(rng.uniform(5, 600), 1)}]
        outputs = [{"type": "text", "tokens": rng.randint(100, 3_000)}]
    return {
        "source": "inference.tasks",
        "detail-type": "Task Completed",
        "detail": {
            "task_id": index if isinstance(index, str) else f"demo_{index:04d}",
            "team_id": TEAM,
            "app": app,
            "app_version": "1.0.0",
            "function": "run",
            "status": status,
            "started_at": (completed_at - timedelta(milliseconds=elapsed_ms)).isoformat(),
            "completed_at": completed_at.isoformat(),
            "elapsed_ms": elapsed_ms,
            "tier": tier,
            "resources": [
                {
                    "name": "gpu0",
                    "type": "gpu",
                    "model": meter.split("/")[0] + "-" + meter.split("/")[1],
                    "meter": meter,
                }
            ],
            "task_inputs": {},
            "output_meta": {"inputs": inputs, "outputs": outputs},
        },
    }


def history_events(now: datetime, rng: random.Random) -> list[dict[str, Any]]:
    """Tasks from HISTORY_DAYS ago up to a week ago (the last week is load_demo's own), in
    working hours UTC, weekdays busier than weekends."""
    apps, weights = list(HISTORY_WEIGHTS), list(HISTORY_WEIGHTS.values())
    events = []
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for days_ago in range(HISTORY_DAYS - 1, 7, -1):
        day = today - timedelta(days=days_ago)
        low, high = WEEKEND_TASKS if day.weekday() >= 5 else WEEKDAY_TASKS
        for number in range(rng.randint(low, high)):
            moment = day + timedelta(hours=rng.randint(7, 20), minutes=rng.randint(0, 59))
            status = "failed" if rng.random() < HISTORY_FAILURES else "completed"
            app = rng.choices(apps, weights)[0]
            task_id = f"demo_h{days_ago:02d}_{number}"
            events.append(demo_event(task_id, app, moment, rng, status))
    return events


def load_demo(api: LocalApi, bus: LocalEventBus) -> None:
    for app, pricing in PRICING.items():
        _request(api, "PATCH", f"/apps/{app}/pricing", pricing)
        _request(api, "POST", f"/apps/{app}/pricing/publish")
    rng = random.Random(7)
    now = datetime.now(UTC)
    apps = list(APPS)
    events = []
    # The last week, billed before today's pricing was published: resource time only.
    for index in range(1, 41):
        events.append(
            demo_event(
                index, apps[index % 3], now - timedelta(minutes=rng.randint(61, 7 * 24 * 60)), rng
            )
        )
    # The last few seconds, under the live pricing; one failed run.
    for index in range(41, 49):
        events.append(
            demo_event(
                index,
                apps[index % 3],
                now + timedelta(milliseconds=index),
                rng,
                "failed" if index == 47 else "completed",
            )
        )
    history = history_events(now, rng)
    bus.put_events(history + events)
    refunds = [e["detail"]["task_id"] for e in history if e["detail"]["status"] == "completed"]
    for task_id in rng.sample(refunds, min(HISTORY_REFUNDS, len(refunds))):
        bus.put_events([{"source": "inference.tasks", "detail-type": "Task Refunded",
                         "detail": {"task_id": task_id, "team_id": TEAM, "reason": "demo refund", "refunded_at": now.isoformat()}}])  # fmt: skip
    bus.put_events([{"source": "inference.tasks", "detail-type": "Task Refunded",
                     "detail": {"task_id": "demo_0042", "team_id": TEAM, "reason": "demo refund", "refunded_at": now.isoformat()}}])  # fmt: skip
