// The GraphQL ecosystem's own expectations, run against a real `lethe serve`:
//   node check.mjs <base URL> <admin token>
// 1. the graphql-http server audit: every MUST and SHOULD must pass;
// 2. the graphql-ws client: a refused token closes with 4403 and is not
//    retried; a valid one subscribes and gets its result.
// Prints one line per check and "N passed, N failed"; exits 1 on a failure.
import { serverAudits } from 'graphql-http';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [base, token] = process.argv.slice(2);
if (!base || !token) {
  console.error('usage: node check.mjs <base URL> <admin token>');
  process.exit(2);
}
let passed = 0;
let failed = 0;
const report = (ok, name, detail = '') => {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`);
};

// Every request carries the token, as a client configured for Lethe would.
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

for (const audit of serverAudits({ url: `${base}/graphql`, fetchFn })) {
  const result = await audit.fn();
  // error: a MUST failed; warn: a SHOULD failed; notice: a MAY (allowed).
  const ok = result.status === 'ok' || result.status === 'notice';
  let detail = result.status === 'ok' ? '' : `${result.status}: ${result.reason}`;
  if (!ok && result.response) {
    detail += ` (HTTP ${result.response.status}: ${(await result.response.text()).slice(0, 300)})`;
  }
  report(ok, `graphql-http ${audit.id} ${audit.name}`, detail);
}

const wsURL = base.replace(/^http/, 'ws') + '/graphql';

// A refused connection: every attempt is closed 4403 Forbidden, which the
// client retries only as often as configured (it may be a token being
// rotated), then hands to the application as an error. A close 1000 would
// read as a normal end and be retried without end.
await new Promise((resolve) => {
  let connects = 0;
  const codes = [];
  const timer = setTimeout(() => finish(null), 10000);
  const client = createClient({
    url: wsURL,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 2,
    retryWait: () => new Promise((r) => setTimeout(r, 50)),
    connectionParams: { Authorization: 'Bearer lethe_not_a_token' },
    on: {
      connecting: () => connects++,
      closed: (e) => codes.push(e.code),
    },
    onNonLazyError: (e) => finish(e),
  });
  function finish(err) {
    clearTimeout(timer);
    client.dispose();
    report(err?.code === 4403 && connects === 3 && codes.every((c) => c === 4403),
      'graphql-ws: a refused token is closed 4403 and reaches the application',
      `error ${err?.code} ${err?.reason ?? ''}, ${connects} attempts, close codes ${codes}`);
    resolve();
  }
});

// An accepted one: a query over the socket gets its data, then completes.
await new Promise((resolve) => {
  const client = createClient({
    url: wsURL,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { Authorization: `Bearer ${token}` },
  });
  let data = null;
  const timer = setTimeout(() => finish('timed out'), 10000);
  const finish = (err) => {
    clearTimeout(timer);
    client.dispose();
    report(!err && data?.dataPolicy != null, 'graphql-ws subscribe with a valid token', err ? String(err?.message ?? JSON.stringify(err)) : '');
    resolve();
  };
  client.subscribe({ query: '{ dataPolicy { usesDefault } }' }, {
    next: (r) => { data = r.data; },
    error: (e) => finish(e instanceof Error ? e : new Error(JSON.stringify(e))),
    complete: () => finish(null),
  });
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
