"""Logger, Tracer and Metrics, created once per process and shared by every handler.

Tracing decision (docs/operations.md, cold start). Every function runs with Lambda active tracing
(`Tracing: Active` in template.yaml): the Lambda service itself records a trace per invocation,
with the function's initialization, invocation and overhead segments, errors and cold starts,
and none of it needs code in the function. The Powertools Tracer adds subsegments inside that
trace (one per `capture_method`, one per AWS SDK call, the `ColdStart` and `Service`
annotations, the response or exception as metadata), but it costs the X-Ray SDK on the import
path, about 0.15-0.35 s of every cold start on a 2-core machine, more than the rest of a
handler's imports together.

So the detailed tracer is opt-in: `tracer` below is a stand-in whose decorators return the
function unchanged unless `DETAILED_TRACING=true` (template parameter `DetailedTracing`), in
which case it is the Powertools Tracer, created at import like before. Operators keep the
per-invocation traces, durations and errors by default; they lose the subsegments (which
DynamoDB call was slow, which route method ran) until they flip the parameter, which costs the
cold start the SDK's import again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = "usage-pricing"
METRICS_NAMESPACE = "UsagePricing"

F = TypeVar("F", bound=Callable[..., Any])


def detailed_tracing_enabled(environ: dict[str, str] | None = None) -> bool:
    source = os.environ if environ is None else environ
    return source.get("DETAILED_TRACING", "").strip().lower() in ("1", "true", "yes")


class OptionalTracer:
    """The two Powertools Tracer decorators the handlers use; the real Tracer (and the X-Ray
    SDK under it) is imported and created only when detailed tracing is on."""

    def __init__(self, enabled: bool) -> None:
        self.tracer: Tracer | None = None
        if enabled:
            from aws_lambda_powertools import Tracer  # noqa: PLC0415 — the opt-in import

            self.tracer = Tracer(service=SERVICE)

    def capture_lambda_handler(self, handler: F) -> F:
        if self.tracer is None:
            return handler
        return cast(F, self.tracer.capture_lambda_handler(handler))

    def capture_method(self, method: F) -> F:
        if self.tracer is None:
            return method
        return self.tracer.capture_method(method)


HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])
logger = Logger(service=SERVICE)
tracer = OptionalTracer(detailed_tracing_enabled())
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)


# Every HTTP handler's log lines carry the request's API Gateway request id as correlation_id, so
# one request's lines (and its problem answer) can be found together; billing sets each SQS
# message's id per record (functions/billing/app.py).
HTTP_CORRELATION_PATH = "requestContext.requestId"


def logged_http_handler(handler: HandlerT) -> HandlerT:
    """The Lambda context and the request's correlation id on every log line of an HTTP handler
    (Powertools `inject_lambda_context` with `correlation_id_path`)."""
    return logger.inject_lambda_context(
        handler, clear_state=True, correlation_id_path=HTTP_CORRELATION_PATH
    )
