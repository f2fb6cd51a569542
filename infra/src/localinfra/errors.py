"""The one exception type raised when local infrastructure cannot be prepared or started."""


class InfraError(RuntimeError):
    """A missing tool, a failed download or a process that would not start or become ready.

    Raised instead of skipping: a test run that silently skips its Kafka/PostgreSQL tests would
    look green while testing nothing.
    """


def missing_tool(name: str, hint: str) -> InfraError:
    """Build the error for a required executable that is not installed."""
    return InfraError(f"{name} not found on PATH: {hint}")
