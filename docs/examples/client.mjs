// A Node.js client of the API (Node 20+, no dependencies): a token by client credentials
// (client_secret_basic), then a run started with an Idempotency-Key and read back.
//
//   node docs/examples/client.mjs local/.run/credentials.json [workflowId]
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

const [file, workflow = 'demo'] = process.argv.slice(2);
const { baseUrl, clients: { demo } } = JSON.parse(readFileSync(file, 'utf8'));
const basic = Buffer.from(`${encodeURIComponent(demo.clientId)}:${encodeURIComponent(demo.clientSecret)}`).toString('base64');
const tokenAnswer = await fetch(`${baseUrl}/oauth/token`, {
  method: 'POST',
  headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'client_credentials' })
});
if (tokenAnswer.status !== 200) throw new Error(`token: ${tokenAnswer.status}`);
const { access_token: token } = await tokenAnswer.json();
const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
const started = await fetch(`${baseUrl}/api/workflows/${workflow}/runs`, {
  method: 'POST', headers: { ...headers, 'Idempotency-Key': randomUUID() },
  body: JSON.stringify({ input: { from: 'docs/examples/client.mjs' } })
});
if (started.status !== 202) throw new Error(`start: ${started.status}`);
const run = await (await fetch(baseUrl + started.headers.get('location'), { headers })).json();
console.log(JSON.stringify({ runId: run.runId, status: run.status }));
