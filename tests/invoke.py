"""Invoke a handler in-process with a sample event and print the response (make evaluate-example)."""

from __future__ import annotations

import json
import sys

from tests.conftest import LambdaContext, load_handler


def main(function: str, event_path: str) -> None:
    with open(event_path) as handle:
        event = json.load(handle)
    response = load_handler(function).lambda_handler(event, LambdaContext())
    print(f"HTTP {response['statusCode']} {response['headers'].get('Content-Type', '')}")
    print(json.dumps(json.loads(response["body"]), indent=2))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
