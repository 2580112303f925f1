from __future__ import annotations

import pytest

from syncloom.errors import ConfigError, PermanentError, TransientError
from syncloom.notify import Channel, EmailSender, SlackSender, SmtpRelay, deliver
from tests.notify.receivers import slack_receiver, smtp_inbox, wait_for


def test_email_reaches_the_smtp_server() -> None:
    with smtp_inbox() as (port, messages):
        EmailSender(SmtpRelay("127.0.0.1", port, sender="alerts@acme.test")).send(
            "ops@acme.test", "3 failed runs", "accounts failed 3 times"
        )
        wait_for(lambda: len(messages) == 1)
    assert messages[0]["To"] == "ops@acme.test"
    assert messages[0]["Subject"] == "3 failed runs"
    assert "accounts failed 3 times" in messages[0].get_payload()


def test_unreachable_relay_is_transient() -> None:
    with smtp_inbox() as (port, _):
        pass
    with pytest.raises(TransientError, match="did not take the message"):
        EmailSender(SmtpRelay("127.0.0.1", port, timeout_s=2)).send("a@b.c", "s", "t")


def test_slack_gets_the_text_and_errors_hide_the_url() -> None:
    with slack_receiver() as (url, receiver):
        SlackSender(url).send("hello")
        assert receiver.posts == [
            {"path": "/services/T000/B000/secretpart", "json": {"text": "hello"}}
        ]
        receiver.status = 404
        with pytest.raises(PermanentError) as refused:
            SlackSender(url).send("hello")
        receiver.status = 503
        with pytest.raises(TransientError):
            SlackSender(url).send("hello")
    assert "secretpart" not in str(refused.value)


def test_email_without_a_relay_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no SMTP relay"):
        deliver(Channel.EMAIL, "ops@acme.test", "s", "t")
