"""The sending side of tests/integration/test_webhook_examples.py, run as its own process
(pytest's process imports urllib3 through a plugin before eventlet patches ssl, and an HTTPS
client there recurses): liaison's transport and hand-made requests against a receiver.

    python -m tests.webhook_client URL CA SECRET   # prints one JSON object: what each got
"""

from __future__ import annotations

import json
import sys
import time

import requests

from civicpulse import webhooks
from civicpulse.envelope import new_event
from services.liaison.webhook_transport import HttpsPoster


def event(n: int) -> bytes:
    return new_event("liaison.statement.published", {
        "ticket_id": f"tkt-{n}", "incident_id": f"inc-{n}", "title": "关于网传情况的说明",
        "channels": ["website"], "url": None}, correlation_id=f"inc-{n}",
        tlp="GREEN").to_json().encode()


def run(url: str, ca: str, secret: str) -> dict[str, object]:
    poster = HttpsPoster(verify=ca, timeout=10)
    one, two = event(1), event(2)
    ids = [json.loads(one)["id"], json.loads(two)["id"]]

    def post(body: bytes, key: str = secret) -> int | None:
        return poster.post(url, key, "cac", json.loads(body)["id"],
                           "liaison.statement.published", body).http_status

    out: dict[str, object] = {"ids": ids, "first_body": json.loads(one)}
    out["first"] = post(one)
    time.sleep(1.1)  # a retry is signed again, with a later timestamp
    out["retry"] = post(one)
    out["wrong_secret"] = post(two, "not-the-secret")
    stale = webhooks.sign(two, secret, timestamp=time.time() - 3600, delivery_id=ids[1])
    out["stale"] = requests.post(url, data=two, headers=stale, verify=ca, timeout=10).status_code
    signed = webhooks.sign(two, secret, delivery_id=ids[1])
    tampered = two.replace("关于".encode(), "有关".encode())
    out["tampered"] = requests.post(url, data=tampered, headers=signed, verify=ca,
                                    timeout=10).status_code
    out["second"] = post(two)
    untrusted = HttpsPoster(verify=True, timeout=10).post(url, secret, "cac", ids[0], "x", one)
    out["untrusted"] = [untrusted.http_status, untrusted.error]
    plain = poster.post(url.replace("https://", "http://"), secret, "cac", ids[0], "x", one)
    out["plain"] = [plain.http_status, plain.error]
    return out


if __name__ == "__main__":
    print(json.dumps(run(*sys.argv[1:4]), ensure_ascii=False))
