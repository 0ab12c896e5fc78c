"""CivicPulse 合作单位接入示例（Python，pika）：见 docs/对接说明.md。

    CIVICPULSE_AMQP_URI='amqps://partner-cac:…@mq.example.gov.cn:5671/%2F' \\
    CIVICPULSE_TLS_CA=/path/to/civicpulse-ca.pem python consume.py

每条事件打印为一行 JSON；处理完再确认（ack），断线后可能重收，按 `id` 去重。
CIVICPULSE_QUEUE 默认 partner.<单位代码>；IDLE_SECONDS 设了就在空闲这么多秒后退出。
只依赖 pika（pip install pika）。
"""

import json
import os
import ssl
import sys
from urllib.parse import unquote, urlsplit

import pika

uri = os.environ["CIVICPULSE_AMQP_URI"]
user = unquote(urlsplit(uri).username or "")
queue = os.environ.get("CIVICPULSE_QUEUE") or "partner." + user.removeprefix("partner-")
idle = float(os.environ.get("IDLE_SECONDS", "0")) or None
seen: set[str] = set()  # 已处理的事件 id（生产中请持久化，例如数据库唯一键）

params = pika.URLParameters(uri)
if uri.startswith("amqps://"):  # 校验服务器证书与主机名
    context = ssl.create_default_context(cafile=os.environ.get("CIVICPULSE_TLS_CA"))
    params.ssl_options = pika.SSLOptions(context, server_hostname=urlsplit(uri).hostname)
try:
    with pika.BlockingConnection(params) as conn:
        channel = conn.channel()
        channel.basic_qos(prefetch_count=20)
        for method, _props, body in channel.consume(queue, inactivity_timeout=idle):
            if method is None:  # 空闲超时
                break
            event = json.loads(body)
            if event["id"] not in seen:
                seen.add(event["id"])
                print(json.dumps(event, ensure_ascii=False), flush=True)  # 在这里处理事件
            channel.basic_ack(method.delivery_tag)  # 处理完才确认
except pika.exceptions.AMQPError as exc:
    sys.exit(f"consume: {exc!r}")
