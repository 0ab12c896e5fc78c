// CivicPulse 合作单位接入示例（Node.js，amqplib）：见 docs/对接说明.md。
//
//   CIVICPULSE_AMQP_URI='amqps://partner-cac:…@mq.example.gov.cn:5671/%2F' \
//   CIVICPULSE_TLS_CA=/path/to/civicpulse-ca.pem node consume.js
//
// 每条事件打印为一行 JSON；处理完再确认（ack），所以断线后可能重收，按 `id` 去重。
// CIVICPULSE_QUEUE 默认 partner.<单位代码>（由用户名 partner-<单位代码> 推出）；
// IDLE_SECONDS 设了就在这么多秒收不到消息后退出（测试用），不设则一直运行。
'use strict';
const fs = require('fs');
const amqp = require('amqplib');

const uri = process.env.CIVICPULSE_AMQP_URI;
const user = decodeURIComponent(new URL(uri).username);
const queue = process.env.CIVICPULSE_QUEUE || `partner.${user.replace(/^partner-/, '')}`;
const ca = process.env.CIVICPULSE_TLS_CA;
const idleMs = Number(process.env.IDLE_SECONDS || 0) * 1000;
const seen = new Set(); // 已处理的事件 id（生产中请持久化，例如数据库唯一键）

async function main() {
  // 校验服务器证书：amqps 时用平台 CA（或系统信任库），主机名须与证书一致。
  const conn = await amqp.connect(uri, ca ? { ca: [fs.readFileSync(ca)] } : {});
  conn.on('error', fail);
  const ch = await conn.createChannel();
  ch.on('error', fail); // 例如 403 ACCESS_REFUSED：读了别的单位的队列
  await ch.prefetch(20);
  let timer = null;
  const finish = async () => { await ch.close(); await conn.close(); };
  const arm = () => {
    if (!idleMs) return;
    clearTimeout(timer);
    timer = setTimeout(() => finish().catch(fail), idleMs);
  };
  arm();
  await ch.consume(queue, (msg) => {
    const event = JSON.parse(msg.content.toString('utf8'));
    if (!seen.has(event.id)) {
      seen.add(event.id);
      process.stdout.write(JSON.stringify(event) + '\n'); // 在这里处理事件
    }
    ch.ack(msg); // 处理完才确认
    arm();
  }, { noAck: false });
}

function fail(err) {
  console.error(`consume: ${err.message}`);
  process.exit(2);
}

main().catch(fail);
