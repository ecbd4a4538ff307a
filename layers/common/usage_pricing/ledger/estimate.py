"""An authorization's `estimate`, priced like a quote: the evaluate body without `pricing`,
priced with the app's pricing live now (platform defaults when none is published), charged as a
completed task would be. Loaded only by an estimate (its models import the metadata types)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from usage_pricing.controls.holds import MAX_HOLD
from usage_pricing.core.errors import FieldIssue
from usage_pricing.edge.http import invalid_request, issues_from_validation
from usage_pricing.ledger.charges import Charge
from usage_pricing.pricing.model import AppPricing
from usage_pricing.pricing.preview import EvaluateRequest

if TYPE_CHECKING:
    from usage_pricing.pricing.evaluator import PricingEvaluator
    from usage_pricing.pricing.repository import PricingRepository


def price_estimate(
    pricing: PricingRepository,
    evaluator: PricingEvaluator,
    app: str,
    estimate: dict[str, Any],
    now: datetime,
) -> int:
    if "pricing" in estimate:
        raise invalid_request(
            [
                FieldIssue(
                    "estimate.pricing",
                    "not allowed: an estimate is priced with the app's live pricing",
                )
            ]
        )
    live = pricing.live_at(app, now)
    app_pricing = live.pricing if live else AppPricing()
    try:
        request = EvaluateRequest.model_validate({**estimate, "pricing": app_pricing})
    except ValidationError as error:
        issues = issues_from_validation(error.errors())
        raise invalid_request(
            [FieldIssue(f"estimate.{i.field}", i.message) for i in issues]
        ) from None
    result = evaluator.price(app_pricing, request.pricing_input())
    # Fail closed: a formula error prices its component as 0, and a hold of less than the task
    # will cost would let a block budget be overspent.
    failed = {name: error for name, error in result.errors.items() if name != "description"}
    if failed:
        raise invalid_request(
            [
                FieldIssue("estimate", f"the app's live pricing fails on it: {name}: {error}")
                for name, error in sorted(failed.items())
            ]
        )
    charged = Charge(result, "completed").charged
    # The bounds of `amount` (controls.holds): a hold of 0 holds nothing (a 201 must mean an
    # amount that counts against the budgets), and one above MAX_HOLD would let the sums of a
    # budget's holds leave int64.
    if charged < 1:
        raise invalid_request(
            [FieldIssue("estimate", f"prices at {charged} microcents: there is nothing to hold")]
        )
    if charged > MAX_HOLD:
        raise invalid_request(
            [
                FieldIssue(
                    "estimate",
                    f"prices at {charged} microcents, more than the largest hold ({MAX_HOLD})",
                )
            ]
        )
    return charged
