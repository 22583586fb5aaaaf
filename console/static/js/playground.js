// Lethe's GraphQL playground: GraphiQL (autocompletion, the docs explorer,
// variables, history), bundled from npm into /console/graphiql/ and served
// by Lethe, so it works without internet access and under the console's
// Content-Security-Policy. The token is the console's: this tab's
// sessionStorage (the console's Playground link copies it into the new
// tab), never a URL; GraphiQL's tabs and history stay in this tab too.
import { token, subscribe, ApiError } from './api.js';
import { mount } from '../graphiql/graphiql.js';

const tok = document.getElementById('pg-token');
tok.value = token.get();
tok.addEventListener('input', () => { if (tok.value.trim()) token.set(tok.value.trim()); else token.clear(); });

const DEFAULT_QUERY = `# Lethe's GraphQL API. Ctrl+Space completes, Ctrl+Enter runs; the Docs
# button (top left) explores the schema. The token is the console's.
query Policies {
  retentionPolicies { name retentionDays defaultDays builtIn description }
  dataPolicy { relinquishDeletedData relinquishAfterDays anonymiseCustomerData removeCDRs usesDefault }
}

query Customers($search: String) {
  customers(search: $search, first: 5, orderBy: {field: DELETION_TIME}) {
    totalCount
    edges { node { id firstName lastName deletionTime deletionReason } }
  }
}
`;

const noToken = { errors: [{ message: 'Paste an API token in the Token field first (lethe token create, or the one make run printed).', extensions: { code: 'UNAUTHENTICATED' } }] };

// isSubscription: whether the operation GraphiQL runs is a subscription
// (the document's only one, or the one named).
function isSubscription({ query, operationName }) {
  const text = query.replace(/#[^\n]*/g, '').replace(/"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"/g, '""');
  const ops = [...text.matchAll(/(^|[}\s])(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/g)].map((m) => ({ kind: m[2], name: m[3] }));
  const op = operationName ? ops.find((o) => o.name === operationName) : ops[0];
  return !!op && op.kind === 'subscription';
}

// fetcher answers GraphiQL: queries and mutations over HTTP with the
// token, subscriptions over the console's graphql-transport-ws client (an
// observable GraphiQL subscribes to).
function fetcher(params) {
  if (!token.get()) return Promise.resolve(noToken);
  if (isSubscription(params)) {
    return {
      subscribe(observer) {
        const stop = subscribe(params.query, params.variables || {}, {
          onNext: (data) => observer.next({ data }),
          onError: (err) => observer.next({ errors: err instanceof ApiError ? err.errors : [{ message: String(err) }] }),
          onComplete: () => observer.complete(),
        });
        return { unsubscribe: stop };
      },
    };
  }
  return fetch('/graphql', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${token.get()}` },
    body: JSON.stringify(params),
    cache: 'no-store',
    credentials: 'omit',
  }).then(async (res) => {
    try { return await res.json(); } catch (e) { return { errors: [{ message: `Lethe answered HTTP ${res.status}` }] }; }
  });
}

mount(document.getElementById('graphiql'), { fetcher, defaultQuery: DEFAULT_QUERY, storage: sessionStorage });
