"""Demo data for the local stack, produced through the real paths: pricing is edited and
published through the HTTP API with the dev key, and task events are billed through
POST /local/events' queue path. Nothing is written to a table directly."""

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
}


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
    index: int, app: str, completed_at: datetime, rng: random.Random, status: str = "completed"
) -> dict[str, Any]:
    meter, kind = APPS[app]
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
            "task_id": f"demo_{index:04d}",
            "team_id": TEAM,
            "app": app,
            "app_version": "1.0.0",
            "function": "run",
            "status": status,
            "started_at": (completed_at - timedelta(milliseconds=elapsed_ms)).isoformat(),
            "completed_at": completed_at.isoformat(),
            "elapsed_ms": elapsed_ms,
            "tier": "cloud" if index % 5 else "private",
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
    bus.put_events(events)
    bus.put_events([{"source": "inference.tasks", "detail-type": "Task Refunded",
                     "detail": {"task_id": "demo_0042", "team_id": TEAM, "reason": "demo refund", "refunded_at": now.isoformat()}}])  # fmt: skip
