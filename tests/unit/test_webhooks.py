"""Webhook signing with a timestamp (civicpulse.webhooks), the news webhook transmitter against
the reference receiver, and the redaction of URL secrets from its errors and receipts."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from civicpulse import webhooks
from civicpulse.redaction import redact, redact_url
from services.news.channels.base import Rendition, TransmitError
from services.news.channels.receiver import WebhookReceiver
from services.news.channels.transmitters import WebhookTransmitter

BODY = json.dumps({"item_id": "itm-1", "title": "情况说明"}, ensure_ascii=False).encode()
NOW = 1_780_000_000


def test_a_signed_delivery_verifies_once_and_a_replay_is_refused() -> None:
    headers = webhooks.sign(BODY, "k", timestamp=NOW, delivery_id="d-1")
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    seen = webhooks.MemorySeenStore()
    assert webhooks.verify(headers, BODY, "k", seen=seen, now=NOW + 10) == "d-1"
    with pytest.raises(webhooks.Replayed):
        webhooks.verify(headers, BODY, "k", seen=seen, now=NOW + 20)
    upper = {k.upper(): v for k, v in headers.items()}
    with pytest.raises(webhooks.Replayed):
        webhooks.verify(upper, BODY, "k", seen=seen, now=NOW + 20)


@pytest.mark.parametrize("tamper", [
    lambda h, b: (h, b.replace(b"itm-1", b"itm-2")),
    lambda h, b: ({**h, "webhook-timestamp": str(NOW + 1)}, b),
    lambda h, b: ({**h, "webhook-id": "d-2"}, b),
    lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b),
    lambda h, b: ({**h, "webhook-timestamp": "soon"}, b),
], ids=["body", "timestamp", "id", "no-signature", "bad-timestamp"])
def test_any_change_breaks_the_signature(tamper: object) -> None:
    headers, body = tamper(webhooks.sign(BODY, "k", timestamp=NOW, delivery_id="d-1"),  # type: ignore[operator]
                           BODY)
    with pytest.raises(webhooks.BadSignature):
        webhooks.verify(headers, body, "k", now=NOW)


def test_wrong_secret_and_empty_secret_are_refused() -> None:
    headers = webhooks.sign(BODY, "k", timestamp=NOW)
    with pytest.raises(webhooks.BadSignature):
        webhooks.verify(headers, BODY, "other", now=NOW)
    with pytest.raises(ValueError, match="empty"):
        webhooks.sign(BODY, "")
    with pytest.raises(ValueError, match="empty"):
        webhooks.verify(headers, BODY, "", now=NOW)


def test_old_and_future_timestamps_are_stale() -> None:
    headers = webhooks.sign(BODY, "k", timestamp=NOW)
    assert webhooks.verify(headers, BODY, "k", max_age=300, now=NOW + 300)
    with pytest.raises(webhooks.Stale):
        webhooks.verify(headers, BODY, "k", max_age=300, now=NOW + 301)
    with pytest.raises(webhooks.Stale):
        webhooks.verify(headers, BODY, "k", max_age=300, now=NOW - 301)


def test_a_seen_id_is_forgotten_once_its_timestamp_has_left_the_window() -> None:
    seen = webhooks.MemorySeenStore()
    assert seen.add("a", expires_at=NOW + 300, now=NOW)
    assert not seen.add("a", expires_at=NOW + 600, now=NOW + 299)
    assert seen.add("a", expires_at=NOW + 900, now=NOW + 301)


def test_interoperates_with_the_standard_webhooks_library() -> None:
    """A receiver using the Standard Webhooks reference library verifies our deliveries."""
    headers = webhooks.sign(BODY, "k")
    key = "whsec_" + base64.b64encode(b"k").decode()
    assert Webhook(key).verify(BODY, headers) == json.loads(BODY)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver(secret="k").start()
    yield r
    r.stop()


def rendition() -> Rendition:
    return Rendition("webhook", "itm-1", "publish", {"item_id": "itm-1", "title": "说明"})


def test_the_receiver_takes_a_delivery_once_and_refuses_forgery(
        receiver: WebhookReceiver) -> None:
    WebhookTransmitter(receiver.url, "k").transmit(rendition(), "d-1")
    WebhookTransmitter(receiver.url, "k").transmit(rendition(), "d-1")  # a retry
    assert len(receiver.received) == 1 and receiver.replayed == 1
    with pytest.raises(TransmitError, match="401"):
        WebhookTransmitter(receiver.url, "forged").transmit(rendition(), "d-2")
    stale = webhooks.sign(b"{}", "k", timestamp=NOW, delivery_id="d-3")
    answer = requests.post(receiver.url, data=b"{}", headers=stale, timeout=5)
    assert answer.status_code == 401 and "window" in answer.json()["error"]
    assert len(receiver.received) == 1


def test_a_webhook_channel_without_a_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        WebhookTransmitter("http://127.0.0.1:9/hook", "")


def test_the_url_key_stays_out_of_errors_and_receipts(receiver: WebhookReceiver) -> None:
    dead = "http://127.0.0.1:9/hook?key=TOPSECRET"
    with pytest.raises(TransmitError) as failed:
        WebhookTransmitter(dead, "k", timeout=2).transmit(rendition(), "d-9")
    assert "TOPSECRET" not in str(failed.value) and "ConnectionError" in str(failed.value)
    keyed = WebhookTransmitter(f"{receiver.url}?key=TOPSECRET", "k")
    keyed.transmit(rendition(), "d-10")
    receipt = keyed.transmit(rendition(), "d-10")  # a duplicate: no receipt, the URL stands in
    assert receipt == f"{receiver.url}?***"


def test_redaction_of_urls_and_texts() -> None:
    assert redact_url("https://h/hook?key=abc") == "https://h/hook?***"
    assert redact_url("amqp://news:pw@rabbit:5672/v") == "amqp://news:***@rabbit:5672/v"
    assert redact_url("http://h/p") == "http://h/p"
    assert redact("failed url: /hook?key=abc (x)") == "failed url: /hook?*** (x)"
    assert redact("amqp://admin:pw@localhost/ down") == "amqp://admin:***@localhost/ down"
