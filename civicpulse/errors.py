"""Error kinds that decide what happens to a message that failed."""


class PermanentError(Exception):
    """The message can never succeed (malformed, wrong schema, unknown version): dead-letter it."""

    reason = "permanent"


class MalformedMessage(PermanentError):
    reason = "malformed"


class ContractViolation(PermanentError):
    reason = "schema"


class UnknownEventType(PermanentError):
    reason = "unknown-type"


class UnknownVersion(PermanentError):
    reason = "unknown-version"


class TransientError(Exception):
    """Worth retrying later (a dependency is briefly unavailable)."""
