// CivicPulse 合作单位示例：确认收到工单、发表意见（HTTP，合作单位令牌；Node 18+ 自带 fetch）。
//
//   CIVICPULSE_URL=https://liaison.example.gov.cn CIVICPULSE_TOKEN=… node ack.js TICKET_ID ["意见"]
'use strict';
const base = process.env.CIVICPULSE_URL.replace(/\/$/, '');
const [ticket, text] = process.argv.slice(2);
const path = `/partner/tickets/${ticket}/${text ? 'comments' : 'ack'}`;

fetch(base + path, {
  method: 'POST',
  headers: { Authorization: `Bearer ${process.env.CIVICPULSE_TOKEN}`,
             'Content-Type': 'application/json' },
  body: JSON.stringify({ text: text || '已收悉' }),
}).then(async (res) => {
  const body = await res.text();
  // 401 令牌无效；403 该单位不在此工单上
  if (!res.ok) { console.error(`HTTP ${res.status}: ${body}`); process.exit(2); }
  console.log(body);
}).catch((err) => { console.error(err.message); process.exit(2); });
