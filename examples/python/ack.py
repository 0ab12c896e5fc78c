"""CivicPulse 合作单位示例：确认收到工单、发表意见（HTTP，合作单位令牌）。

    CIVICPULSE_URL=https://liaison.example.gov.cn CIVICPULSE_TOKEN=… \\
    python ack.py TICKET_ID ["意见内容"]

只写确认时不带第二个参数；带上则作为意见（comment）提交。只依赖标准库。
"""

import json
import os
import sys
import urllib.error
import urllib.request

base, token = os.environ["CIVICPULSE_URL"].rstrip("/"), os.environ["CIVICPULSE_TOKEN"]
ticket, text = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "")
path = f"/partner/tickets/{ticket}/" + ("comments" if text else "ack")
request = urllib.request.Request(
    base + path, data=json.dumps({"text": text or "已收悉"}).encode(), method="POST",
    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
try:
    with urllib.request.urlopen(request, timeout=10) as response:
        print(response.read().decode())
except urllib.error.HTTPError as exc:  # 401 令牌无效；403 该单位不在此工单上
    sys.exit(f"HTTP {exc.code}: {exc.read().decode()}")
