"""EmailSender: alerts by email through an SMTP relay (smtplib, optional STARTTLS and login)."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage

from syncloom.errors import TransientError

__all__ = ["EmailSender", "SmtpRelay"]


@dataclass(frozen=True, slots=True)
class SmtpRelay:
    """Where email goes out: host, port, sender address and optional login."""

    host: str
    port: int = 25
    sender: str = "syncloom@localhost"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    timeout_s: float = 10.0


class EmailSender:
    """Sends one plain-text message per alert through an :class:`SmtpRelay`."""

    def __init__(self, relay: SmtpRelay) -> None:
        self.relay = relay

    def send(self, to: str, subject: str, body: str) -> None:
        """Send a message to ``to``.

        Raises:
            TransientError: the relay refused or could not be reached; the text names the
                relay, never the login.
        """
        message = EmailMessage()
        message["From"] = self.relay.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        relay = self.relay
        try:
            with smtplib.SMTP(relay.host, relay.port, timeout=relay.timeout_s) as smtp:
                if relay.starttls:
                    smtp.starttls()
                if relay.username and relay.password:
                    smtp.login(relay.username, relay.password)
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientError(
                f"the SMTP relay {relay.host}:{relay.port} did not take the message: "
                f"{type(exc).__name__}"
            ) from exc
