// Lethe's own GraphQL playground: served by Lethe with the console's files,
// so it works without internet access. Paste a block of named operations,
// pick one, run it (Ctrl+Enter); subscriptions stream their results.
import { gql, subscribe, token, ApiError } from './api.js';

const $ = (id) => document.getElementById(id);
const q = $('pg-query'); const vars = $('pg-vars'); const op = $('pg-op'); const out = $('pg-out'); const status = $('pg-status'); const tok = $('pg-token');

const EXAMPLE = `# Named operations: pick one above and run it (Ctrl+Enter).
query Policies {
  retentionPolicies { name retentionDays defaultDays builtIn description }
  dataPolicy { relinquishDeletedData relinquishAfterDays anonymiseCustomerData removeCDRs usesDefault }
}

query Forecast {
  retentionForecast(weeks: 12) { from overdue { erase anonymise } weeks { start erase anonymise } }
}
`;

q.value = sessionStorage.getItem('lethe.playground.query') || EXAMPLE;
vars.value = sessionStorage.getItem('lethe.playground.vars') || '{}';
tok.value = token.get();
tok.addEventListener('input', () => { if (tok.value.trim()) token.set(tok.value.trim()); else token.clear(); });

// operations lists the named operations of the document, in order.
function operations(text) {
  const stripped = text.replace(/#[^\n]*/g, '').replace(/"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"/g, '""');
  const found = [];
  const re = /(^|[}\s])(query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/g;
  let m;
  while ((m = re.exec(stripped))) found.push({ kind: m[2], name: m[3] });
  return found;
}

function refreshOps() {
  const ops = operations(q.value);
  const keep = op.value;
  op.replaceChildren(...(ops.length ? ops : [{ kind: '', name: '' }]).map((o) => {
    const el = document.createElement('option');
    el.value = o.name;
    el.textContent = o.name ? `${o.kind} ${o.name}` : '(the only operation)';
    el.dataset.kind = o.kind;
    return el;
  }));
  if (ops.some((o) => o.name === keep)) op.value = keep;
  sessionStorage.setItem('lethe.playground.query', q.value);
}

let stop = null;
async function run() {
  if (stop) { stop(); stop = null; }
  let variables = {};
  try { variables = vars.value.trim() ? JSON.parse(vars.value) : {}; } catch (e) { show('Variables are not valid JSON: ' + e.message, 'error'); return; }
  sessionStorage.setItem('lethe.playground.vars', vars.value);
  if (!token.get()) { show('Paste an API token in the Token field first (lethe token create, or the one make run printed).', 'error'); tok.focus(); return; }
  const opt = op.selectedOptions[0];
  const name = opt && opt.value ? opt.value : undefined;
  const started = performance.now();
  if (opt && opt.dataset.kind === 'subscription') {
    status.textContent = 'Subscribed; waiting for results…';
    out.textContent = '';
    stop = subscribe(q.value, variables, {
      onNext: (data) => { out.textContent += JSON.stringify({ data }, null, 2) + '\n'; status.textContent = 'Receiving…'; },
      onError: (err) => { out.textContent += JSON.stringify({ errors: err.errors }, null, 2) + '\n'; status.textContent = err.explain(); },
      onComplete: () => { status.textContent = 'Subscription complete.'; },
    });
    return;
  }
  status.textContent = 'Running…';
  try {
    // gql throws on errors; the playground shows the whole answer either way.
    const data = await gql(q.value, variables, name);
    show(JSON.stringify({ data }, null, 2));
    status.textContent = `${Math.round(performance.now() - started)} ms`;
  } catch (err) {
    if (err instanceof ApiError) {
      show(JSON.stringify({ errors: err.errors }, null, 2));
      status.textContent = err.explain();
    } else show(String(err), 'error');
  }
}

function show(text, kind) {
  out.textContent = text;
  if (kind === 'error') status.textContent = text;
}

const INTROSPECT = `query Schema { __schema { queryType { name } mutationType { name } subscriptionType { name }
  types { kind name description fields { name description args { name type { ...T } defaultValue } type { ...T } }
    inputFields { name type { ...T } defaultValue } enumValues { name } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`;

function typeRef(t) {
  if (t.kind === 'NON_NULL') return typeRef(t.ofType) + '!';
  if (t.kind === 'LIST') return `[${typeRef(t.ofType)}]`;
  return t.name;
}

async function showSchema() {
  status.textContent = 'Reading the schema…';
  try {
    const d = await gql(INTROSPECT, {}, 'Schema');
    const lines = [];
    const order = [d.__schema.queryType, d.__schema.mutationType, d.__schema.subscriptionType].filter(Boolean).map((t) => t.name);
    const types = d.__schema.types.filter((t) => !t.name.startsWith('__'));
    types.sort((a, b) => (order.indexOf(b.name) + 1 || 0) - (order.indexOf(a.name) + 1 || 0) || a.name.localeCompare(b.name));
    for (const t of types) {
      if (t.kind === 'SCALAR' && ['String', 'Int', 'Boolean', 'ID', 'Float'].includes(t.name)) continue;
      if (t.description) lines.push(`"""${t.description}"""`);
      const kw = { OBJECT: 'type', INPUT_OBJECT: 'input', ENUM: 'enum', SCALAR: 'scalar', INTERFACE: 'interface', UNION: 'union' }[t.kind];
      if (t.kind === 'SCALAR') { lines.push(`scalar ${t.name}`, ''); continue; }
      lines.push(`${kw} ${t.name} {`);
      for (const f of t.fields || []) {
        if (f.description) lines.push(`  # ${f.description.replace(/\n/g, ' ')}`);
        const args = f.args.length ? `(${f.args.map((a) => `${a.name}: ${typeRef(a.type)}`).join(', ')})` : '';
        lines.push(`  ${f.name}${args}: ${typeRef(f.type)}`);
      }
      for (const f of t.inputFields || []) lines.push(`  ${f.name}: ${typeRef(f.type)}${f.defaultValue ? ` = ${f.defaultValue}` : ''}`);
      for (const v of t.enumValues || []) lines.push(`  ${v.name}`);
      lines.push('}', '');
    }
    out.textContent = lines.join('\n');
    status.textContent = 'The schema, from introspection.';
  } catch (err) {
    out.textContent = JSON.stringify({ errors: err.errors || [String(err)] }, null, 2);
    status.textContent = err.explain ? err.explain() : String(err);
  }
}

// tidy re-indents braces; it does not reformat inside lines.
function tidy() {
  let depth = 0;
  q.value = q.value.split('\n').map((line) => {
    const t = line.trim();
    if (!t) return '';
    const opens = (t.match(/[{(]/g) || []).length; const closes = (t.match(/[})]/g) || []).length;
    const lead = /^[})]/.test(t) ? 1 : 0;
    const out2 = '  '.repeat(Math.max(0, depth - lead)) + t;
    depth = Math.max(0, depth + opens - closes);
    return out2;
  }).join('\n');
  refreshOps();
}

q.addEventListener('input', refreshOps);
for (const el of [q, vars]) el.addEventListener('keydown', (ev) => { if ((ev.ctrlKey || ev.metaKey) && ev.key === 'Enter') { ev.preventDefault(); run(); } });
$('pg-run').addEventListener('click', run);
$('pg-schema').addEventListener('click', showSchema);
$('pg-prettify').addEventListener('click', tidy);
refreshOps();
