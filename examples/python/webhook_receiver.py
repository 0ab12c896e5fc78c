"""CivicPulse 合作单位示例：接收 Webhook 推送（HTTPS POST），校验签名，按 id 去重。

    CIVICPULSE_WEBHOOK_SECRET=… PORT=8443 TLS_CERT=server.pem TLS_KEY=server.key \\
    python webhook_receiver.py

每收到一个新事件，向标准输出打印一行 JSON（即事件信封，与队列中收到的完全相同）。
签名方案（Standard Webhooks）：签名串为 f"{webhook-id}.{webhook-timestamp}.{正文}"，
密钥为 secret 的 UTF-8 字节，HMAC-SHA256 后 base64，请求头 webhook-signature 为 "v1,<签名>"
（可能有多个，以空格分隔）。时间戳与当前时间相差超过 5 分钟的请求拒绝（防重放）。
应答 2xx 表示已收到；其他应答（或超时）办公室会按指数退避重试，同一事件的 webhook-id
与事件 id 相同，因此务必按 id 去重（生产环境请用数据库唯一键，而不是内存集合）。
只依赖标准库。
"""

import base64
import hashlib
import hmac
import json
import os
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = os.environ["CIVICPULSE_WEBHOOK_SECRET"].encode()
MAX_AGE = 300
seen = set()  # 已处理的事件 id：生产环境请持久化


def verify(headers, body):
    """签名正确且时间戳在 5 分钟内则返回 webhook-id，否则返回 None。"""
    msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "").split(" ")
    if not (msg_id and stamp.isdigit()) or abs(time.time() - int(stamp)) > MAX_AGE:
        return None
    digest = hmac.new(SECRET, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(digest).decode()
    return msg_id if any(hmac.compare_digest(expected, s) for s in signatures) else None


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if verify(self.headers, body) is None:
            return self.answer(401)  # 签名不对或已过期：不处理
        event = json.loads(body)
        if event["id"] not in seen:  # 按 id 去重：重试、补发时 id 不变
            seen.add(event["id"])
            print(json.dumps(event, ensure_ascii=False), flush=True)  # 在此处理事件
        self.answer(204)

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8443"))), Handler)
if os.environ.get("TLS_CERT"):  # 也可以放在贵单位的 HTTPS 反向代理之后
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.environ["TLS_CERT"], os.environ["TLS_KEY"])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print("listening", file=sys.stderr, flush=True)
server.serve_forever()
