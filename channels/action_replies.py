"""Checks the action server's replies against Rasa's schema with one validator, built once.

Rasa 3.6 checks every reply with `jsonschema.validate(reply, schema)`, which first checks the
schema itself against JSON Schema's meta-schema and builds a new validator: for Rasa's large
event schema that took about a quarter of the Rasa server's time per message in `make bench`
(tens of milliseconds). The schema never changes, so it is checked once here and the same
validator checks every reply: the same rules and the same error for a bad reply.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@cache
def reply_validator() -> Validator:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_result(_action: RemoteAction, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result, with the validator built once."""
    try:
        reply_validator().validate(result)
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the "
            f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise
    return True


def validate_with_one_validator() -> None:
    """Installs the check in Rasa's RemoteAction (idempotent; called as the Rasa server starts)."""
    RemoteAction._validate_action_result = validate_action_result
