"""The errors the offline Bedrock and Bedrock Runtime calls answer with: the error code and the
HTTP status of the API reference, in the JSON body botocore reads them from."""

from __future__ import annotations

from moto.core.exceptions import JsonRESTError


class ValidationException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("ValidationException", message)


class ResourceNotFoundException(JsonRESTError):
    code = 404

    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message)


class ConflictException(JsonRESTError):
    code = 409

    def __init__(self, message: str) -> None:
        super().__init__("ConflictException", message)


class ModelNotReadyException(JsonRESTError):
    code = 429

    def __init__(self, message: str) -> None:
        super().__init__("ModelNotReadyException", message)
