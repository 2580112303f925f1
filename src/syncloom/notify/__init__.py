"""Notify: telling people about alerts, by email (SMTP) or Slack (incoming webhook).

Example::

    deliver(Channel.SLACK, "https://hooks.example/T/B/x", "syncloom: 3 failed runs", text)
"""

from __future__ import annotations

import enum

import httpx

from syncloom.errors import ConfigError
from syncloom.notify.email import EmailSender, SmtpRelay
from syncloom.notify.slack import SlackSender

__all__ = ["Channel", "EmailSender", "SlackSender", "SmtpRelay", "deliver"]


class Channel(enum.StrEnum):
    """Where an alert goes."""

    EMAIL = "email"
    SLACK = "slack"


def deliver(
    channel: Channel,
    target: str,
    subject: str,
    text: str,
    *,
    smtp: SmtpRelay | None = None,
    transport: httpx.BaseTransport | None = None,
) -> None:
    """Send one alert to an email address or a Slack webhook.

    Raises:
        ConfigError: email was asked for but no SMTP relay is configured.
        RemoteError: the relay or webhook refused (see the senders).
    """
    if channel is Channel.SLACK:
        SlackSender(target, transport=transport).send(f"*{subject}*\n{text}")
        return
    if smtp is None:
        raise ConfigError("no SMTP relay is configured; set one to send email alerts")
    EmailSender(smtp).send(target, subject, text)
