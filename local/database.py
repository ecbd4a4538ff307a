"""The local database: moto in server mode (the only DynamoDB-compatible endpoint here that
supports transactions, GSIs and streams), with every table of template.yaml."""

from __future__ import annotations

import logging
import os
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from .atomic import serialize_dynamodb
from .template import Template, create_queues, create_tables

LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class LocalDatabase:
    def __init__(self, host: str = "127.0.0.1", port: int = 8000) -> None:
        self.server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.host = host
        self.port = port
        self.queue_urls: dict[str, str] = {}

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, template: Template) -> list[str]:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
        serialize_dynamodb()
        self.server.start()
        if self.port == 0:
            self.port = self.server._server.server_port  # type: ignore[union-attr]
        # boto3 reads service-specific endpoints from the environment: the handlers need no
        # local-only code to reach this database.
        for key, value in LOCAL_CREDENTIALS.items():
            os.environ.setdefault(key, value)
        # LOCAL_HANDLER_DYNAMODB_ENDPOINT points the handlers elsewhere (a closed port shows what
        # the API answers while DynamoDB is unreachable); the stack itself keeps this database.
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = (
            os.environ.get("LOCAL_HANDLER_DYNAMODB_ENDPOINT") or self.endpoint
        )
        os.environ["AWS_ENDPOINT_URL_SQS"] = self.endpoint
        created = create_tables(self.client(), template)
        self.queue_urls = create_queues(self.sqs(), template)
        return created

    def sqs(self) -> Any:
        return boto3.client("sqs", endpoint_url=self.endpoint)

    def client(self) -> Any:
        return boto3.client("dynamodb", endpoint_url=self.endpoint)

    def resource(self) -> Any:
        return boto3.resource("dynamodb", endpoint_url=self.endpoint)

    def stop(self) -> None:
        self.server.stop()
