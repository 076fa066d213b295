"""Errors use cases raise; the API and CLI turn them into answers a person can act on."""


class UseCaseError(Exception):
    """Base: `field` names the input the problem is about, when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(UseCaseError):
    pass


class ConflictError(UseCaseError):
    """The request is well-formed but the current state does not allow it."""
