"""The threshold-event outbox sweeper (docs/spend-controls.md, "Delivery"): every minute, sends
the unsent events whose claim lapsed and reports the oldest unsent one's age (alarmed at 5 min)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from usage_pricing.core.observability import logger, metrics
from usage_pricing.runtime.wiring import Wiring

wiring = Wiring()
relay = wiring.outbox_relay()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if relay is None:
        raise RuntimeError("CONTROLS_TABLE is not configured")
    sent, oldest = relay.sweep(context)
    metrics.add_metric(name="ThresholdEventsSwept", unit=MetricUnit.Count, value=sent)
    metrics.add_metric(
        name="OldestUnsentThresholdEventSeconds", unit=MetricUnit.Seconds, value=oldest
    )
    if oldest:
        logger.warning("threshold events still unsent", extra={"oldest_seconds": oldest})
    return {"sent": sent, "oldest_unsent_seconds": oldest}
