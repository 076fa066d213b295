"""Webhooks refused for a missing or wrong signature (Twilio) or secret token (Telegram): counted in
this process, shown by GET /readyz, and logged once each, without the signature, the secret, or
anything from the body (the sender's number)."""

import logging

from starlette.requests import Request

log = logging.getLogger(__name__)
PROVIDERS = ("twilio", "telegram")


class RefusedWebhooks:
    """How many webhooks each provider's check refused since this process started."""

    def __init__(self) -> None:
        self._counts = dict.fromkeys(PROVIDERS, 0)

    def count(self, provider: str, request: Request, why: str) -> None:
        """Count one refusal and log it: the path, the peer's address and why, nothing the caller sent."""
        self._counts[provider] += 1
        peer = request.client.host if request.client else "unknown"
        log.warning(
            "refused a %s webhook on %s from %s: %s (%d refused since start)",
            provider,
            request.url.path,
            peer,
            why,
            self._counts[provider],
        )

    def as_json(self) -> dict[str, int]:
        return dict(self._counts)
