"""Logger, Tracer and Metrics, created once per process and shared by every handler."""

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "usage-pricing"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="UsagePricing", service=SERVICE)
