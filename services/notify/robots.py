"""IM group robots (webhooks) in the formats of 企业微信 (WeCom), 钉钉 (DingTalk) and 飞书
(Feishu/Lark), each with its own way of proving the sender:

- WeCom: the robot's `key` is in the webhook URL; there is no signature.
- DingTalk (加签): `timestamp` (ms) and `sign` = urlencoded base64(HMAC-SHA256(key=secret,
  msg=f"{timestamp}\\n{secret}")) as query parameters.
- Feishu (签名校验): `timestamp` (s) and `sign` = base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}",
  msg=b"")) in the JSON body.

Each answers HTTP 200 with a JSON status (`errcode` 0, or `code` 0 for Feishu); rate limits
and server errors are worth a retry, anything else is not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import requests

from services.notify.config import Robot

# "too many messages": try again later
RATE_LIMIT_CODES = {45009, 130101, 9499, 11232}


@dataclass(frozen=True)
class Failure:
    error: str
    permanent: bool


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(),
                      hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def request_for(robot: Robot, subject: str, body: str,
                now: float | None = None) -> tuple[str, dict[str, Any]]:
    """The URL to POST to and the JSON body, signed if the robot has a secret."""
    now = time.time() if now is None else now
    if robot.kind == "wecom":
        return robot.url, {"msgtype": "markdown",
                           "markdown": {"content": f"**{subject}**\n{body}"}}
    if robot.kind == "dingtalk":
        url = robot.url
        if robot.secret:
            ts = int(now * 1000)
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}timestamp={ts}&sign={dingtalk_sign(robot.secret, ts)}"
        return url, {"msgtype": "markdown",
                     "markdown": {"title": subject, "text": f"### {subject}\n\n{body}"}}
    payload: dict[str, Any] = {"msg_type": "text", "content": {"text": f"{subject}\n{body}"}}
    if robot.secret:
        ts = int(now)
        payload = {"timestamp": str(ts), "sign": feishu_sign(robot.secret, ts), **payload}
    return robot.url, payload


def post(session: requests.Session, robot: Robot, subject: str, body: str,
         timeout: float = 10.0) -> Failure | None:
    """Send one message; None when the robot took it."""
    url, payload = request_for(robot, subject, body)
    try:
        resp = session.post(url, json=payload, timeout=timeout)
    except requests.RequestException as exc:
        return Failure(f"{robot.kind} robot unreachable: {type(exc).__name__}", False)
    if resp.status_code >= 500 or resp.status_code == 429:
        return Failure(f"{robot.kind} robot answered HTTP {resp.status_code}", False)
    if resp.status_code >= 400:
        return Failure(f"{robot.kind} robot refused: HTTP {resp.status_code}", True)
    return _json_status(robot.kind, resp)


def _json_status(kind: str, resp: requests.Response) -> Failure | None:
    try:
        answer = resp.json()
    except ValueError:
        return Failure(f"{kind} robot answered no JSON", False)
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    if code in (0, None):
        return None
    message = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
    return Failure(f"{kind} robot error {code}: {message}", code not in RATE_LIMIT_CODES)
