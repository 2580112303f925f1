"""SlackSender: alerts to a Slack channel through an incoming-webhook URL (httpx).

The webhook URL is itself the secret that lets anyone post, so it never appears in an error.
"""

from __future__ import annotations

import httpx

from syncloom.errors import PermanentError, TransientError

__all__ = ["SlackSender"]


class SlackSender:
    """Posts ``{"text": ...}`` to one incoming webhook."""

    def __init__(
        self,
        webhook_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self._url = webhook_url
        self._transport = transport
        self._timeout_s = timeout_s

    def __repr__(self) -> str:
        return "SlackSender(webhook_url=<hidden>)"

    def send(self, text: str) -> None:
        """Post one message.

        Raises:
            TransientError: the webhook could not be reached or answered 5xx/429.
            PermanentError: the webhook refused the message (4xx: revoked or wrong URL).
        """
        try:
            with httpx.Client(transport=self._transport, timeout=self._timeout_s) as client:
                response = client.post(self._url, json={"text": text})
        except httpx.HTTPError as exc:
            raise TransientError(
                f"the Slack webhook could not be reached: {type(exc).__name__}"
            ) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(f"the Slack webhook answered {response.status_code}")
        if response.status_code >= 400:
            raise PermanentError(
                f"the Slack webhook refused the message ({response.status_code}): "
                f"{response.text[:200]}"
            )
