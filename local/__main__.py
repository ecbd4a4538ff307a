"""make dev: the local stack on 127.0.0.1 — database, tables, dev key, demo data, HTTP API.

    python -m local [--api-port 3000] [--db-port 8000] [--no-demo]

Ctrl-C stops everything it started."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Any

from .database import LocalDatabase
from .emitted import LocalEmitter
from .events import LocalEventBus
from .functions import load_functions
from .schedules import start_schedules
from .stack import LocalApi, local_routes, serve
from .state import remove_state, write_state
from .template import load_template

DEFAULT_KEY = "inf_local_dev"
DEV_TEAM = "team_local"


def start(api_port: int, db_port: int, demo: bool) -> tuple[Any, LocalDatabase, LocalApi]:
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "UsagePricingLocal")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # no EMF lines on the console
    template = load_template()
    database = LocalDatabase(port=db_port)
    database.start(template)

    # Imported after the environment above is set: the layer creates its Logger at import.
    from usage_pricing.edge.key_store import ApiKeyRepository  # noqa: PLC0415

    dev_key = os.environ.get("LOCAL_API_KEY", DEFAULT_KEY)
    ApiKeyRepository(database.resource().Table("ApiKeysTable")).ensure(dev_key, DEV_TEAM, ["*"])

    # Threshold events go to a recorder (GET /local/emitted-events), set before any handler loads.
    from usage_pricing.runtime.wiring import Wiring  # noqa: PLC0415

    emitter = LocalEmitter()
    Wiring.publisher_factory = emitter.publisher

    template = template.with_refs(database.queue_urls)
    functions = load_functions(template)
    bus = LocalEventBus(template, functions, database.sqs(), database.queue_urls)
    api = LocalApi(template, functions, local_routes=local_routes(bus, emitter))
    start_schedules(template, functions)
    if demo:
        from .demo import load_demo  # noqa: PLC0415 — loads the layer, after the environment is set

        load_demo(api, bus)
    server = serve(api, "127.0.0.1", api_port)
    return server, database, api


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    parser.add_argument(
        "--api-port", type=int, default=int(os.environ.get("LOCAL_API_PORT", "3000"))
    )
    parser.add_argument("--db-port", type=int, default=int(os.environ.get("LOCAL_DB_PORT", "8000")))
    parser.add_argument("--no-demo", action="store_true", help="skip loading demo data")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    server, database, api = start(args.api_port, args.db_port, demo=not args.no_demo)
    api.verbose = args.verbose
    port = server.server_address[1]
    key = os.environ.get("LOCAL_API_KEY", DEFAULT_KEY)
    # Where `make audit`, `make api-key`, `make revoke-key` and `make first-task` find this stack.
    state = write_state(f"http://127.0.0.1:{port}", database.endpoint)
    where = (
        f"  state      {state}   (the local tools follow it; removed on exit)\n"
        if state
        else "  state      another running stack holds the state file: tools follow that one\n"
    )
    print(
        f"usage-pricing local stack\n"
        f"  HTTP API   http://127.0.0.1:{port}   (OpenAPI at /openapi.json)\n"
        f"  DynamoDB   {database.endpoint}   (moto; tables from template.yaml)\n"
        f"  dev key    {key}   (team {DEV_TEAM}, scope *)\n"
        f"{where}"
        f"ready — Ctrl-C stops everything",
        flush=True,
    )
    stopping = threading.Event()

    def stop(*_: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        stopping.wait()
        server.shutdown()
        server.server_close()
        database.stop()
    finally:
        remove_state()
    print("stopped", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
