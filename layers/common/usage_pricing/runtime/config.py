"""Deployment configuration, validated once at cold start from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from usage_pricing.core.fees import PLATFORM_FEES, declare_fields
from usage_pricing.storage.aggregates import DEFAULT_SHARDS, MAX_SHARDS

if TYPE_CHECKING:
    from usage_pricing.pricing.model import PlatformDefaults


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    cel_engine: Literal["cel-expr", "cel-python"] = Field("cel-expr", alias="CEL_ENGINE")
    # platform_inference_fee … from PLATFORM_INFERENCE_FEE …: one per fee with a platform default.
    declare_fields(
        vars(),
        int,
        lambda fee: Field(0, ge=0, alias=fee.platform_setting),
        components=PLATFORM_FEES,
        attribute=lambda fee: f"platform_{fee.field}",
    )
    api_keys_table: str = Field("", alias="API_KEYS_TABLE")
    billing_table: str = Field("", alias="BILLING_TABLE")
    aggregates_table: str = Field("", alias="AGGREGATES_TABLE")
    pricing_table: str = Field("", alias="PRICING_TABLE")
    dead_letter_queue_url: str = Field("", alias="DEAD_LETTER_QUEUE_URL")
    # Spend controls (usage_pricing.controls): the budgets/holds/outbox table, and the bus the
    # threshold events go to.
    controls_table: str = Field("", alias="CONTROLS_TABLE")
    event_bus_name: str = Field("default", alias="EVENT_BUS_NAME")
    aggregate_shards: int = Field(DEFAULT_SHARDS, ge=1, le=MAX_SHARDS, alias="AGGREGATE_SHARDS")
    # The billing queue's maxReceiveCount: on its last receive a failing message is dead-lettered
    # by billing itself, with its reason (template.yaml sets both; a test holds them equal).
    max_receive_count: int = Field(5, ge=1, le=1000, alias="MAX_RECEIVE_COUNT")
    # Signs the task list's and the backtest's cursors (usage_pricing.core.cursors); template.yaml
    # resolves it from its CursorSecret. SecretStr: a repr or a log of the settings never shows it.
    cursor_secret: SecretStr = Field(SecretStr(""), alias="CURSOR_SECRET")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        source = os.environ if environ is None else environ
        return cls.model_validate({k: v for k, v in source.items() if k.isupper()})

    def platform_defaults(self) -> PlatformDefaults:
        # Imported here: handlers that price nothing (breakdown, summary) never load pricing.
        from usage_pricing.pricing.model import PlatformDefaults  # noqa: PLC0415

        return PlatformDefaults.model_validate(
            {fee.field: getattr(self, f"platform_{fee.field}") for fee in PLATFORM_FEES}
        )
