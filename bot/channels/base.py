"""The port every transport implements (sandbox now; Twilio and Telegram next), and how sends fail."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One outbox row, as a transport sees it."""

    id: int
    channel: str
    address: str
    kind: str
    body: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    valid_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    provider_ref: str
    moved_to: str | None = None  # the provider moved the address (a Telegram group became a supergroup)


class Failure(StrEnum):
    RETRYABLE = "retryable"  # not processed by the provider (429, connection refused): send again later
    PERMANENT = "permanent"  # will never work (opted out, invalid number, blocked): stop, record why
    AMBIGUOUS = "ambiguous"  # may have been processed (timeout after sending, 5xx): never resend blindly


class SendError(Exception):
    """A send that did not succeed, classified so the dispatcher knows what to do next."""

    def __init__(
        self,
        failure: Failure,
        message: str,
        *,
        retry_after: float | None = None,
        code: str | None = None,
        address_state: str | None = None,
    ) -> None:
        super().__init__(message)
        self.failure = failure
        self.retry_after = retry_after
        self.code = code
        # What a permanent failure says about the address itself ("opted_out", "dead", "invalid"):
        # that channel is marked so for the recipient and their next channel takes over.
        self.address_state = address_state


class Transport(Protocol):
    """A channel's way out to a provider."""

    async def send(self, message: Outgoing) -> Receipt:
        """Hand the message to the provider; raise SendError when it was not accepted."""
        ...

    async def lookup(self, message: Outgoing, since: datetime) -> Receipt | None:
        """After an ambiguous outcome: did the provider get it? NotImplementedError if it cannot tell."""
        ...

    async def close(self) -> None:
        """Let go of connections (the process is stopping)."""
        ...
