// CivicPulse 合作单位示例：接收 Webhook 推送（HTTPS POST），校验签名，按 id 去重。
//
//   CIVICPULSE_WEBHOOK_SECRET=… PORT=8443 TLS_CERT=server.pem TLS_KEY=server.key \
//   node webhook_receiver.js
//
// 每收到一个新事件，向标准输出打印一行 JSON（事件信封，与队列中收到的相同）。
// 签名：base64(HMAC-SHA256(secret, `${webhook-id}.${webhook-timestamp}.${正文}`))，
// 请求头 webhook-signature 为 "v1,<签名>"（可能多个，空格分隔）；时间戳超过 5 分钟拒绝。
// 应答 2xx 表示已收到，否则办公室会重试；请按事件 id 去重。只用 Node.js 18+ 自带模块。
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');

const SECRET = Buffer.from(process.env.CIVICPULSE_WEBHOOK_SECRET, 'utf8');
const MAX_AGE = 300;
const seen = new Set(); // 已处理的事件 id：生产环境请持久化

function verify(headers, body) {
  const id = headers['webhook-id'] || '';
  const stamp = headers['webhook-timestamp'] || '';
  const given = (headers['webhook-signature'] || '').split(' ');
  if (!id || !/^\d+$/.test(stamp) || Math.abs(Date.now() / 1000 - Number(stamp)) > MAX_AGE) {
    return null;
  }
  const expected = Buffer.from('v1,' + crypto.createHmac('sha256', SECRET)
    .update(`${id}.${stamp}.`).update(body).digest('base64'));
  const ok = given.some((s) => {
    const b = Buffer.from(s);
    return b.length === expected.length && crypto.timingSafeEqual(b, expected);
  });
  return ok ? id : null;
}

function handle(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.method !== 'POST' || verify(req.headers, body) === null) {
      res.writeHead(401).end(); // 签名不对或已过期：不处理
      return;
    }
    const event = JSON.parse(body.toString('utf8'));
    if (!seen.has(event.id)) { // 按 id 去重：重试、补发时 id 不变
      seen.add(event.id);
      console.log(JSON.stringify(event)); // 在此处理事件
    }
    res.writeHead(204).end();
  });
}

const server = process.env.TLS_CERT
  ? https.createServer({ cert: fs.readFileSync(process.env.TLS_CERT),
    key: fs.readFileSync(process.env.TLS_KEY) }, handle)
  : http.createServer(handle); // 也可以放在贵单位的 HTTPS 反向代理之后
server.listen(Number(process.env.PORT || 8443), '127.0.0.1',
  () => console.error('listening'));
