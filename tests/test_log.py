from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from syncloom.log import MASK, configure_logging, get_logger, is_secret_name, mask_text

SECRETS = [
    "hunter2-pass",
    "sess-8f1c2d",
    "csrf-77aa",
    "aspx-0b9e",
    "cs-client-secret-1",
    "abcdefghijklmnop0123",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzeW5jIn0.c2lnbmF0dXJlLWhlcmU",
]


@pytest.fixture
def output():
    stream = io.StringIO()
    yield stream
    structlog.reset_defaults()
    logging.getLogger().handlers = []


def _log_everything(log) -> None:
    log.info(
        "signed in",
        password=SECRETS[0],
        session_id=SECRETS[1],
        headers={"BPMCSRF": SECRETS[2], "Cookie": f".ASPXAUTH={SECRETS[3]}; BPMLOADER=x"},
        form={"client_secret": SECRETS[4], "grant_type": "client_credentials"},
    )
    log.warning("calling with Authorization: Bearer " + SECRETS[5])
    log.info("token seen", note=f"the body held {SECRETS[6]} verbatim")
    logging.getLogger("httpx").info("POST https://erp/?sessionid=%s&page=2", SECRETS[1])
    try:
        raise RuntimeError(f"vendor said: bad password={SECRETS[0]}")
    except RuntimeError:
        log.exception("sign-in failed", api_key=SECRETS[4])


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_secrets_never_reach_the_output(output, log_format):
    configure_logging(log_format, stream=output)

    _log_everything(get_logger("syncloom.test", flow="accounts"))

    text = output.getvalue()
    assert "signed in" in text
    assert "sign-in failed" in text
    assert "client_credentials" in text
    assert "page=2" in text
    assert MASK in text
    for secret in SECRETS:
        assert secret not in text


def test_json_lines_keep_identifiers_and_mask_secret_fields(output):
    configure_logging("json", stream=output)

    get_logger("syncloom.test").info(
        "linked", record_key="creatio:Account:42", erp_key="intacct:CUSTOMER:C42", token="t0k3n-xyz"
    )

    line = json.loads(output.getvalue().splitlines()[0])
    assert line["event"] == "linked"
    assert line["record_key"] == "creatio:Account:42"
    assert line["erp_key"] == "intacct:CUSTOMER:C42"
    assert line["token"] == MASK
    assert line["level"] == "info"
    assert line["timestamp"].endswith("Z")


def test_levels_below_the_threshold_are_dropped(output):
    configure_logging("json", level="WARNING", stream=output)
    log = get_logger("syncloom.test")
    log.info("quiet")
    log.warning("loud")
    assert [json.loads(x)["event"] for x in output.getvalue().splitlines()] == ["loud"]


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "Password",
        "client_secret",
        "access_token",
        "Authorization",
        "Cookie",
        "BPMCSRF",
        ".ASPXAUTH",
        "sessionid",
        "session_id",
        "api_key",
        "key",
        "master_key",
        "private_key",
    ],
)
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name", ["record_key", "crm_key", "erp_key", "flow", "event", "tokens", "user", "key_id"]
)
def test_ordinary_names(name):
    assert not is_secret_name(name)


def test_mask_text_masks_shapes_not_words():
    assert mask_text("Authorization: Bearer abcdefghijklmnop") == f"Authorization: Bearer {MASK}"
    assert mask_text('{"password": "p4ss"}') == f'{{"password": "{MASK}"}}'
    assert mask_text("the password field is required") == "the password field is required"
