"""DynamoDB repositories, one per table concern, each with its table injected."""

from .api_keys import ApiKey, ApiKeyRepository
from .dynamo import translate_client_error

__all__ = ["ApiKey", "ApiKeyRepository", "translate_client_error"]
