// The console's only link to Lethe: GraphQL at /graphql (HTTP for queries
// and mutations, graphql-transport-ws for subscriptions). The token lives in
// sessionStorage: it ends with the tab and is never put in a URL.

const TOKEN_KEY = 'lethe.token';

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) || '',
  set: (t) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

// Messages a person understands, by extensions.code; the server's own
// message follows where it says what to do.
const explanations = {
  UNAUTHENTICATED: 'Your session has ended or the token is not valid. Sign in again.',
  FORBIDDEN: 'Your role does not allow this.',
  NOT_FOUND: 'It no longer exists.',
  FUTURE_APPOINTMENT: 'This customer has an appointment ahead, so they cannot be deleted now.',
  LEGAL_HOLD: 'A legal hold protects this customer: nothing of theirs can be erased or anonymised until it is released.',
  CONNECTOR_UNAVAILABLE: 'A connected store did not answer, so nothing was done. Try again when it is back.',
  CONFLICT: 'Something else is in progress. Try again in a moment.',
  BAD_USER_INPUT: 'Please check the value.',
  INTERNAL: 'Something went wrong inside Lethe. Nothing was changed; the server log has the details.',
  TIMEOUT: 'Lethe took too long to answer. Try again.',
  NETWORK: 'Lethe cannot be reached. Check the connection and try again.',
};

export class ApiError extends Error {
  constructor(errors) {
    const first = errors[0] || {};
    super(first.message || 'Unknown error');
    this.errors = errors;
    this.code = (first.extensions && first.extensions.code) || 'INTERNAL';
    this.field = first.extensions && first.extensions.field;
  }
  // explain is a sentence for the person: what happened, then the server's
  // message when it adds something.
  explain() {
    const base = explanations[this.code];
    if (!base) return this.message;
    if (this.code === 'BAD_USER_INPUT' || this.code === 'NOT_FOUND' || this.code === 'CONFLICT') return this.message;
    // These say all there is; the server's message would repeat it.
    if (['INTERNAL', 'NETWORK', 'UNAUTHENTICATED', 'LEGAL_HOLD'].includes(this.code)) return base;
    return `${base} (${this.message})`;
  }
}

const listeners = new Set();
// onUnauthenticated is told when the token stops working.
export function onUnauthenticated(fn) { listeners.add(fn); }

export async function gql(query, variables = {}, operationName) {
  let res;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token.get()}` },
      body: JSON.stringify({ query, variables, operationName }),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (e) {
    throw new ApiError([{ message: String(e), extensions: { code: 'NETWORK' } }]);
  }
  let body;
  try {
    body = await res.json();
  } catch (e) {
    throw new ApiError([{ message: `Lethe answered HTTP ${res.status}`, extensions: { code: res.status === 413 ? 'BAD_USER_INPUT' : 'INTERNAL' } }]);
  }
  if (body.errors && body.errors.length) {
    const err = new ApiError(body.errors);
    if (err.code === 'UNAUTHENTICATED') listeners.forEach((fn) => fn(err));
    throw err;
  }
  return body.data;
}

// subscribe runs a subscription over graphql-transport-ws; onNext gets each
// result's data. It returns a function that stops it.
export function subscribe(query, variables, { onNext, onError, onComplete }) {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  const ws = new WebSocket(url, 'graphql-transport-ws');
  let done = false;
  const finish = (fn, arg) => { if (!done) { done = true; fn && fn(arg); } };
  ws.onopen = () => ws.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${token.get()}` } }));
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    switch (msg.type) {
      case 'connection_ack':
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
        break;
      case 'ping':
        ws.send(JSON.stringify({ type: 'pong' }));
        break;
      case 'next':
        if (msg.payload.errors && msg.payload.errors.length) finish(onError, new ApiError(msg.payload.errors));
        else onNext(msg.payload.data);
        break;
      case 'error':
        finish(onError, new ApiError(msg.payload || []));
        break;
      case 'complete':
        finish(onComplete);
        ws.close(1000);
        break;
      default:
    }
  };
  ws.onerror = () => finish(onError, new ApiError([{ message: 'websocket failed', extensions: { code: 'NETWORK' } }]));
  ws.onclose = (ev) => {
    if (ev.code === 4403 || ev.code === 4401) finish(onError, new ApiError([{ message: ev.reason, extensions: { code: 'UNAUTHENTICATED' } }]));
    else finish(onComplete);
  };
  return () => { done = true; ws.close(1000); };
}
