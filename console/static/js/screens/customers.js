// Handle customers: search as you type (name, email or phone), paginated,
// with the page kept in the address so that Back returns to it; overdue
// deletion times marked. A customer's page shows their details (times in the
// browser's zone), corrects them (Edit), changes their policy, places and
// releases legal holds, exports them (JSON or a zip with their documents)
// and deletes them (with the FUTURE_APPOINTMENT refusal explained and "set
// Direct instead" offered).
import { gql, token } from '../api.js';
import {
  h, replace, field, errorBanner, banner, table, pageHeader, debounce, fmtTime, fmtDay, fmtNum, confirmDialog, loading,
  localize, dayEnd, busy, setDirty,
} from '../ui.js';

const SIZES = [20, 50, 100];
const FIELD_NAMES = { FIRST_NAME: 'firstName', LAST_NAME: 'lastName', EMAIL: 'email', PHONE: 'phone' };
const FIELD_LABELS = { firstName: 'First name', lastName: 'Last name', email: 'Email', phone: 'Phone' };
const SEARCH_HINT = 'Search finds every word you type at the start of a word of a name or of an email address (each part of '
  + 'compound, hyphenated and apostrophe names; ß as ss, ø as o, æ as ae; accents and case ignored), and phone numbers by '
  + 'their first digits, national or international, or their last digits.';

export async function render(main, ctx) {
  if (ctx.params[0]) return renderCustomer(main, ctx, ctx.params[0]);
  return renderList(main, ctx);
}

// The list's state lives in the address (#/customers?q=ann&page=2&size=50):
// Back from a customer, a reload or a shared link shows the same page. The
// cursors of the pages seen are kept for this tab, per search.
function listState(query) {
  const size = SIZES.includes(Number(query.get('size'))) ? Number(query.get('size')) : SIZES[0];
  const q = query.has('q') ? query.get('q') : (sessionStorage.getItem('lethe.search') || '');
  const status = ['ACTIVE', 'CANCELLED', 'DELETED'].includes(query.get('status')) ? query.get('status') : '';
  const sort = SORTS[query.get('sort')] ? query.get('sort') : '';
  return {
    q, size, status, sort, desc: sort !== '' && query.get('dir') === 'desc',
    overdue: query.get('overdue') === '1', held: query.get('held') === '1', page: Math.max(0, Number(query.get('page') || 1) - 1) || 0,
  };
}

// The orders the list offers: the address's sort= value, the API's field
// and the column it sorts.
const ORDER_OPTIONS = [['', 'Id (no order)'], ['name', 'Name, A to Z'], ['name:desc', 'Name, Z to A'],
  ['last', 'Last interaction, oldest first'], ['last:desc', 'Last interaction, newest first'],
  ['deletion', 'Deletion time, soonest first'], ['deletion:desc', 'Deletion time, latest first']];
const SORTS = {
  name: { field: 'NAME', column: 'Name' },
  last: { field: 'LAST_INTERACTION', column: 'Last interaction' },
  deletion: { field: 'DELETION_TIME', column: 'Deletion time' },
};

const cursorKey = (sig) => `lethe.customers.cursors:${sig}`;

// showsList says whether the address is still the customer list's.
const showsList = () => /^#\/customers(\?|$)/.test(location.hash);

async function renderList(main, ctx) {
  const st = listState(ctx.query);
  main.append(pageHeader('Handle customers', 'Search by name, email or phone; open a customer to see their data, correct it, change their policy, export or delete them.'));
  const q = h('input', { type: 'search', name: 'search', autocomplete: 'off', placeholder: 'Name, email or phone', value: st.q });
  const f = field('Search customers', q);
  const size = h('select', { name: 'pageSize' }, SIZES.map((n) => h('option', { value: n, selected: n === st.size }, `${n} a page`)));
  const fsize = field('Page size', size);
  // The order: a column's header button sorts by it, ascending, and again
  // descending; the Sort by list offers the same (on a phone the table's
  // headers are hidden).
  const order = { sort: st.sort, desc: st.desc };
  const orderValue = () => (order.sort ? `${order.sort}${order.desc ? ':desc' : ''}` : '');
  const sortSel = h('select', { name: 'sort' }, ORDER_OPTIONS.map(([v, l]) => h('option', { value: v, selected: v === orderValue() }, l)));
  const fsort = field('Sort by', sortSel);
  const status = h('select', { name: 'status' }, [['', 'Any status'], ['ACTIVE', 'Active'], ['CANCELLED', 'Cancelled'], ['DELETED', 'Deleted']]
    .map(([v, l]) => h('option', { value: v, selected: v === st.status }, l)));
  const fstatus = field('Status', status);
  const overdue = h('input', { type: 'checkbox', name: 'overdue', id: 'f-overdue', checked: st.overdue });
  const held = h('input', { type: 'checkbox', name: 'held', id: 'f-held', checked: st.held });
  const checks = h('div', { class: 'filter-checks' },
    h('label', { for: 'f-overdue', title: 'Past their deletion time: the next sweep relinquishes them' }, overdue, ' Overdue'),
    h('label', { for: 'f-held' }, held, ' Under a legal hold'));
  const searching = h('p', { class: 'hint', role: 'status', 'data-testid': 'searching' });
  const results = h('div', { 'aria-live': 'polite', 'data-testid': 'results' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  main.append(h('form', { class: 'inline-form filters', role: 'search', onsubmit: (ev) => { ev.preventDefault(); go(0); } }, f.el, fstatus.el, checks, fsort.el, fsize.el), searching, results, pager);
  // The search, filters and page size as they are now: the address's query.
  const params = (p) => {
    const out = new URLSearchParams();
    if (q.value) out.set('q', q.value);
    if (status.value) out.set('status', status.value);
    if (overdue.checked) out.set('overdue', '1');
    if (held.checked) out.set('held', '1');
    if (Number(size.value) !== SIZES[0]) out.set('size', size.value);
    if (order.sort) out.set('sort', order.sort);
    if (order.sort && order.desc) out.set('dir', 'desc');
    if (p > 0) out.set('page', String(p + 1));
    return out;
  };
  const signature = () => { const x = params(0); return x.toString(); };
  const sortBy = (key) => {
    order.desc = order.sort === key ? !order.desc : false;
    order.sort = key;
    sortSel.value = orderValue();
    go(0);
  };
  sortSel.addEventListener('change', () => {
    const [key, dir] = sortSel.value.split(':');
    order.sort = key;
    order.desc = dir === 'desc';
    go(0);
  });
  let cursors = [null];
  try { cursors = JSON.parse(sessionStorage.getItem(cursorKey(signature()))) || [null]; } catch (e) { cursors = [null]; }
  let seq = 0;

  async function go(p) {
    const text = q.value.trim();
    const n = Number(size.value);
    if (p === 0) cursors = [null];
    if (p > 0 && cursors[p] === undefined) p = 0; // a page whose cursor this tab never saw
    const mine = ++seq;
    sessionStorage.setItem('lethe.search', q.value);
    results.setAttribute('aria-busy', 'true');
    replace(searching, h('span', { class: 'busy' }, 'Searching…'));
    try {
      const d = await gql(`query SearchCustomers($search: String, $first: Int, $after: String, $status: CustomerStatus, $overdue: Boolean, $underHold: Boolean, $orderBy: CustomerOrder) {
        customers(search: $search, first: $first, after: $after, status: $status, overdue: $overdue, underHold: $underHold, orderBy: $orderBy) { totalCount totalCountCapped pageInfo { hasNextPage endCursor }
          edges { node { id firstName lastName email phone status lastInteractionAt deletionTime retentionPolicy { name } legalHolds { active } } } } }`,
      {
        search: text || null, first: n, after: cursors[p], status: status.value || null, overdue: overdue.checked || null, underHold: held.checked || null,
        orderBy: order.sort ? { field: SORTS[order.sort].field, direction: order.desc ? 'DESC' : 'ASC' } : null,
      }, 'SearchCustomers');
      // An answer that arrives after the address moved on (a customer was
      // opened; its hashchange is still queued) must not write the list's
      // address back over it.
      if (mine !== seq || !ctx.isCurrent() || !showsList()) return;
      const c = d.customers;
      cursors[p + 1] = c.pageInfo.endCursor;
      sessionStorage.setItem(cursorKey(signature()), JSON.stringify(cursors));
      const ps = params(p).toString();
      const here = `#/customers${ps ? `?${ps}` : ''}`;
      history.replaceState(null, '', here);
      sessionStorage.setItem('lethe.customers.list', here);
      showPage(c, p, n, text);
    } catch (err) {
      if (mine !== seq) return;
      if (err.code === 'BAD_USER_INPUT') { f.setError(err.explain()); replace(results); } else replace(results, errorBanner(err));
    } finally {
      if (mine === seq) { results.removeAttribute('aria-busy'); replace(searching); }
    }
  }

  function showPage(c, p, n, text) {
    replace(results,
      // The server counts exactly up to a cap; above it, it says so.
      h('p', { class: 'count', 'data-testid': 'total' }, c.totalCountCapped
        ? `More than ${fmtNum(c.totalCount)} customers` : `${fmtNum(c.totalCount)} customer${c.totalCount === 1 ? '' : 's'}`),
      customerTable(c.edges.map((e) => e.node), order, sortBy),
      !c.edges.length && text ? h('p', { class: 'hint', 'data-testid': 'search-hint' }, SEARCH_HINT) : null);
    replace(pager,
      h('button', { type: 'button', class: 'btn', disabled: p === 0, onclick: () => go(p - 1) }, '← Previous'),
      h('span', { 'data-testid': 'page' }, c.totalCountCapped ? `Page ${p + 1}` : `Page ${p + 1} of ${Math.max(1, Math.ceil(c.totalCount / n))}`),
      h('button', { type: 'button', class: 'btn', disabled: !c.pageInfo.hasNextPage, onclick: () => go(p + 1) }, 'Next →'));
  }

  q.addEventListener('input', debounce(() => { f.setError(''); go(0); }, 250));
  for (const el of [size, status, overdue, held]) el.addEventListener('change', () => go(0));
  q.focus();
  await go(st.page);
}

function customerTable(nodes, order, sortBy) {
  const now = Date.now();
  const name = (n) => [n.firstName, n.lastName].filter(Boolean).join(' ') || h('em', {}, 'no name');
  const sortable = (key) => ({
    label: SORTS[key].column, onSort: () => sortBy(key),
    sort: order.sort === key ? (order.desc ? 'descending' : 'ascending') : null,
  });
  return table([sortable('name'), 'Email', 'Phone', 'Status', sortable('last'), sortable('deletion'), 'Policy'], nodes.map((n) => {
    const held = n.legalHolds.some((lh) => lh.active);
    const overdue = n.deletionTime && Date.parse(n.deletionTime) <= now;
    return h('tr', { dataset: { customer: n.id } },
      h('th', { scope: 'row' }, h('a', { href: `#/customers/${encodeURIComponent(n.id)}` }, name(n))),
      h('td', { class: 'email' }, n.email || '—'), h('td', { class: 'when' }, n.phone || '—'),
      h('td', {}, statusTag(n.status), held ? h('span', { class: 'tag' }, 'hold') : null),
      // Days in the list (the exact time, in the zone the top bar names,
      // is the cell's title and on the customer's page): the table fits
      // 1280 px without wrapping a date.
      h('td', { class: 'when', title: fmtTime(n.lastInteractionAt) }, fmtDay(n.lastInteractionAt)),
      h('td', { class: overdue ? 'overdue' : null, 'data-testid': overdue ? 'overdue' : null,
        title: overdue ? `Past its deletion time (${fmtTime(n.deletionTime)}): the next sweep relinquishes them` : fmtTime(n.deletionTime) },
      overdue ? [h('span', { class: 'tag tag-overdue' }, 'overdue'), ' '] : null, h('span', { class: 'when' }, held ? 'on hold' : fmtDay(n.deletionTime))),
      h('td', { class: 'mono' }, n.retentionPolicy.name));
  }), { empty: 'No customer matches.' });
}

function statusTag(s) { return h('span', { class: `status status-${s.toLowerCase()}` }, s.toLowerCase()); }

const CUSTOMER = `query Customer($id: ID!) {
  customer(id: $id) { id firstName lastName email phone status statusChangedAt lastInteractionAt createdAt anonymisedAt
    retentionPolicy { name retentionDays } retentionPolicyAssigned deletionTime deletionReason
    legalHolds { id reason placedAt until releasedAt active }
    appointments { id startsAt endsAt }
    visits { id startedAt endedAt customFields { field value } } }
  retentionPolicies { name retentionDays }
  fieldPreferences { collectionEnabled fields { field mode } }
  customFieldStorage { field label } }`;

async function renderCustomer(main, ctx, id) {
  const back = h('a', { href: sessionStorage.getItem('lethe.customers.list') || '#/customers', class: 'back' }, '← All customers');
  const body = h('div', {}, loading());
  // One place for what the last action said: a later error replaces an
  // earlier success, never sits below it.
  const status = h('div', { 'aria-live': 'polite', 'data-testid': 'status' });
  main.append(back, body);
  const say = (...nodes) => replace(status, ...nodes);
  const page = { id, ctx, say, body, load: null };

  async function load(message) {
    let d;
    try { d = await gql(CUSTOMER, { id }, 'Customer'); } catch (err) { replace(body, errorBanner(err)); return; }
    const c = d.customer;
    if (!c) { replace(body, banner('info', 'This customer does not exist or has been erased.')); return; }
    const visible = new Set(Object.values(FIELD_NAMES));
    if (!d.fieldPreferences.collectionEnabled) visible.clear();
    for (const fp of d.fieldPreferences.fields) if (fp.mode === 'HIDDEN') visible.delete(FIELD_NAMES[fp.field]);
    const name = [c.firstName, c.lastName].filter(Boolean).join(' ') || 'Customer without a name';
    replace(body,
      pageHeader(name, c.id,
        h('button', { type: 'button', class: 'btn', onclick: (ev) => exportJSON(page, ev.currentTarget) }, 'Export'),
        h('button', { type: 'button', class: 'btn', onclick: (ev) => exportZip(page, ev.currentTarget) }, 'Export zip'),
        h('button', { type: 'button', class: 'btn btn-danger', onclick: (ev) => deleteCustomer(page, name, ev.currentTarget) }, 'Delete')),
      status,
      h('div', { class: 'grid-2' },
        h('section', { class: 'card', 'aria-labelledby': 'sec-details' }, h('h2', { id: 'sec-details' }, 'Details'), facts(c, visible),
          c.anonymisedAt ? null : editForm(page, c, d.fieldPreferences, visible)),
        h('section', { class: 'card', 'aria-labelledby': 'sec-policy' }, h('h2', { id: 'sec-policy' }, 'Edit policy'), policyForm(page, c, d.retentionPolicies),
          h('h2', { id: 'sec-holds' }, 'Legal holds'), holdsTable(page, c), holdForm(page))),
      h('section', { class: 'card', 'aria-labelledby': 'sec-appts' }, h('h2', { id: 'sec-appts' }, 'Appointments'),
        table(['Starts', 'Ends'], c.appointments.map((a) => [fmtTime(a.startsAt), fmtTime(a.endsAt)]), { empty: 'No appointments.' })),
      h('section', { class: 'card', 'aria-labelledby': 'sec-visits' }, h('h2', { id: 'sec-visits' }, 'Visits'),
        table(['Started', 'Ended', 'Custom fields'], c.visits.map((v) => [fmtTime(v.startedAt), v.endedAt ? fmtTime(v.endedAt) : 'open',
          customFieldList(v.customFields, d.customFieldStorage)]), { empty: 'No visits.' })));
    say(message ? banner('success', message) : null);
    document.title = `${name} · Lethe`;
  }
  page.load = load;
  await load();
}

// customFieldList shows a visit's custom fields by the labels an
// administrator gave them in Settings (custom1 "Notes"), the field's own
// name as the label's tooltip.
function customFieldList(values, storage) {
  const labels = Object.fromEntries(storage.filter((s) => s.label).map((s) => [s.field, s.label]));
  const shown = values.filter((cf) => cf.value);
  if (!shown.length) return '—';
  return shown.map((cf, i) => [i ? ', ' : '', h('span', { class: 'custom-field', 'data-field': cf.field, title: labels[cf.field] ? cf.field : null },
    `${labels[cf.field] || cf.field}: ${cf.value}`)]);
}

// overdue: the deletion time has passed; the next sweep relinquishes them.
const overdue = (c) => !!c.deletionTime && Date.parse(c.deletionTime) <= Date.now();

function facts(c, visible) {
  const rows = [];
  for (const k of ['firstName', 'lastName', 'email', 'phone']) if (visible.has(k)) rows.push([FIELD_LABELS[k], h('span', { 'data-testid': `fact-${k}` }, c[k] || '—')]);
  rows.push(['Status', statusTag(c.status)], ['Status changed', fmtTime(c.statusChangedAt)], ['Last interaction', fmtTime(c.lastInteractionAt)],
    ['Customer since', fmtTime(c.createdAt)], ['Deletion time', h('strong', { 'data-testid': 'deletion-time', class: overdue(c) ? 'overdue' : null }, overdue(c) ? 'Overdue · ' : null, fmtTime(c.deletionTime))],
    ['Why', h('span', { 'data-testid': 'deletion-reason' }, localize(c.deletionReason) || '—')],
    ['Retention policy', h('span', { 'data-testid': 'policy' }, `${c.retentionPolicy.name} (${fmtNum(c.retentionPolicy.retentionDays)} days${c.retentionPolicyAssigned ? ', assigned' : ', automatic'})`)]);
  if (c.anonymisedAt) rows.push(['Anonymised', fmtTime(c.anonymisedAt)]);
  return h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

// editForm corrects the customer's personal data (rectification): only the
// fields changed are sent; an emptied field is cleared. The server checks
// the values and the collection preferences and names a wrong field.
function editForm(page, c, prefs, visible) {
  const keys = ['firstName', 'lastName', 'email', 'phone'].filter((k) => visible.has(k));
  if (!keys.length) return null;
  const modes = Object.fromEntries(prefs.fields.map((fp) => [FIELD_NAMES[fp.field], fp.mode]));
  const inputs = {};
  const fields = {};
  for (const k of keys) {
    inputs[k] = h('input', { type: k === 'email' ? 'email' : (k === 'phone' ? 'tel' : 'text'), name: k, autocomplete: 'off', value: c[k] || '' });
    fields[k] = field(`${FIELD_LABELS[k]}${modes[k] === 'REQUIRED' ? ' (required)' : ''}`, inputs[k]);
  }
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save changes');
  const form = h('form', { 'aria-label': 'Edit details', 'data-testid': 'edit-form' }, h('div', { class: 'form-grid' }, keys.map((k) => fields[k].el)),
    h('p', { class: 'hint' }, 'A correction counts as the customer\'s latest event: their deletion time starts again from now.'),
    h('div', { class: 'actions' }, save));
  const changes = () => Object.fromEntries(keys.filter((k) => inputs[k].value.trim() !== (c[k] || '')).map((k) => [k, inputs[k].value.trim()]));
  form.addEventListener('input', () => setDirty(Object.keys(changes()).length ? 'The customer\'s details' : null));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    keys.forEach((k) => fields[k].setError(''));
    const input = changes();
    if (!Object.keys(input).length) { page.say(banner('info', 'Nothing has changed.')); return; }
    busy(save, async () => {
      try {
        await gql('mutation UpdateCustomer($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { id } }', { id: page.id, input }, 'UpdateCustomer');
        setDirty(null);
        await page.load(`Saved: ${Object.keys(input).map((k) => FIELD_LABELS[k].toLowerCase()).join(', ')}.`);
      } catch (err) {
        if (fields[err.field]) fields[err.field].setError(err.explain()); else page.say(errorBanner(err));
      }
    });
  });
  return h('details', { class: 'edit', open: false }, h('summary', {}, 'Edit details'), form);
}

function policyForm(page, c, policies) {
  const sel = h('select', { name: 'policy' }, policies.map((p) => h('option', { value: p.name, selected: p.name === c.retentionPolicy.name }, `${p.name} (${p.retentionDays} days)`)));
  const fpol = field('Policy', sel);
  const set = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Set policy');
  const clear = c.retentionPolicyAssigned ? h('button', { type: 'button', class: 'btn' }, 'Use automatic policy') : null;
  const form = h('form', { class: 'inline-form', 'aria-label': 'Edit policy' }, fpol.el, set, clear);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(page, set, () => gql('mutation SetCustomerPolicy($id: ID!, $policy: ID!) { setCustomerRetentionPolicy(id: $id, policy: $policy) { id } }', { id: page.id, policy: sel.value }, 'SetCustomerPolicy'),
      `The policy is now ${sel.value}.`);
  });
  if (clear) {
    clear.addEventListener('click', () => act(page, clear, () => gql('mutation ClearCustomerPolicy($id: ID!) { clearCustomerRetentionPolicy(id: $id) { id } }', { id: page.id }, 'ClearCustomerPolicy'),
      'The policy is chosen automatically again.'));
  }
  return form;
}

// act runs one change with its button busy, then reloads the customer
// with message, or says what went wrong in the one status place.
async function act(page, button, fn, message) {
  page.say();
  await busy(button, async () => {
    try { await fn(); await page.load(message); } catch (err) { page.say(errorBanner(err)); }
  });
}

function holdsTable(page, c) {
  return table(['Reason', 'Placed', 'Until', 'State', ''], c.legalHolds.map((lh) => [lh.reason, fmtTime(lh.placedAt), lh.until ? fmtTime(lh.until) : 'no end',
    lh.active ? 'active' : (lh.releasedAt ? `released ${fmtTime(lh.releasedAt)}` : 'ended'),
    lh.active ? h('button', { type: 'button', class: 'btn btn-small', onclick: (ev) => releaseHold(page, lh, ev.currentTarget) }, 'Release') : '']), { empty: 'No legal holds.' });
}

async function releaseHold(page, lh, button) {
  const ok = await confirmDialog({ title: 'Release this legal hold?', confirm: 'Release hold', danger: true,
    body: [h('p', {}, `Reason: ${lh.reason}`), h('p', {}, 'Once released, the customer\'s data is erased or anonymised as soon as it is due, which may be at the next sweep.')] });
  if (!ok) return;
  await act(page, button, () => gql('mutation ReleaseLegalHold($id: ID!) { releaseLegalHold(id: $id) }', { id: lh.id }, 'ReleaseLegalHold'), 'The legal hold is released.');
}

function holdForm(page) {
  const reason = h('input', { type: 'text', name: 'reason', autocomplete: 'off' });
  const until = h('input', { type: 'date', name: 'until' });
  const freason = field('Reason', reason);
  const funtil = field('Until (optional)', until, 'The hold ends at the end of that day, in your time zone.');
  const place = h('button', { type: 'submit', class: 'btn' }, 'Place hold');
  const form = h('form', { class: 'inline-form', 'aria-label': 'Place a legal hold' }, freason.el, funtil.el, place);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    freason.setError(''); funtil.setError('');
    if (!reason.value.trim()) { freason.setError('Say why the data must be kept.'); return; }
    page.say();
    busy(place, async () => {
      try {
        await gql('mutation PlaceLegalHold($customerId: ID!, $reason: String!, $until: Time) { placeLegalHold(customerId: $customerId, reason: $reason, until: $until) { id } }',
          { customerId: page.id, reason: reason.value.trim(), until: dayEnd(until.value) }, 'PlaceLegalHold');
        await page.load('The legal hold is placed: nothing will be erased or anonymised while it lasts.');
      } catch (err) {
        if (err.field === 'until') funtil.setError(localize(err.explain())); else if (err.field === 'reason') freason.setError(err.explain()); else page.say(errorBanner(err));
      }
    });
  });
  return form;
}

function download(blob, fileName) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: fileName, class: 'visually-hidden' }, 'download');
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function exportJSON(page, button) {
  page.say(loading('Collecting everything held on this customer…'));
  await busy(button, async () => {
    try {
      const { exportCustomer: e } = await gql('mutation ExportCustomer($id: ID!) { exportCustomer(id: $id) { fileName data } }', { id: page.id }, 'ExportCustomer');
      download(new Blob([JSON.stringify(e.data, null, 2)], { type: 'application/json' }), e.fileName);
      page.say(banner('success', `Exported as ${e.fileName}.`));
    } catch (err) { page.say(errorBanner(err)); }
  });
}

// exportZip downloads the subject-access archive (the JSON export plus the
// documents connectors hold, such as invoice PDFs) from /export/{id}; it
// can take a while, so it can be cancelled.
async function exportZip(page, button) {
  const ctl = new AbortController();
  const cancel = h('button', { type: 'button', class: 'btn btn-small', onclick: () => ctl.abort() }, 'Cancel');
  page.say(banner('info', h('span', { class: 'busy', 'data-testid': 'zip-progress' }, 'Collecting the archive with every document… '), cancel));
  await busy(button, async () => {
    try {
      const res = await fetch(`/export/${encodeURIComponent(page.id)}?format=zip`, {
        headers: { Authorization: `Bearer ${token.get()}` }, cache: 'no-store', credentials: 'omit', signal: ctl.signal,
      });
      if (!res.ok) {
        let msg = `Lethe answered HTTP ${res.status}.`;
        try { const b = await res.json(); msg = (b.errors && b.errors[0] && b.errors[0].message) || msg; } catch (e) { /* not JSON */ }
        page.say(banner('error', msg));
        return;
      }
      const m = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '');
      const fileName = m ? m[1] : 'export.zip';
      download(await res.blob(), fileName);
      page.say(banner('success', `Exported as ${fileName}.`));
    } catch (err) {
      page.say(err.name === 'AbortError' ? banner('info', 'The zip export was cancelled; nothing was downloaded.') : errorBanner(err));
    }
  });
}

async function deleteCustomer(page, name, button) {
  const ok = await confirmDialog({ title: `Delete ${name}?`, danger: true, confirm: 'Delete everywhere',
    body: [h('p', {}, 'Their personal data is erased from Lethe and every connected store. Only a tombstone with the id and the record of what was done remains.'), h('p', {}, h('strong', {}, 'This cannot be undone.'))] });
  if (!ok) return;
  page.say(loading('Erasing…'));
  await busy(button, async () => {
    try {
      await gql('mutation DeleteCustomer($id: ID!) { deleteCustomer(id: $id) }', { id: page.id }, 'DeleteCustomer');
      replace(page.body, banner('success', `${name} has been erased everywhere.`), h('p', {}, h('a', { href: '#/customers' }, 'Back to customers')));
    } catch (err) {
      if (err.code !== 'FUTURE_APPOINTMENT') { page.say(errorBanner(err)); return; }
      const direct = h('button', { type: 'button', class: 'btn btn-primary' }, 'Set Direct instead');
      direct.addEventListener('click', () => act(page, direct, () => gql('mutation SetCustomerPolicy($id: ID!, $policy: ID!) { setCustomerRetentionPolicy(id: $id, policy: $policy) { id } }', { id: page.id, policy: 'direct' }, 'SetCustomerPolicy'),
        'The policy is now direct: the customer is erased once nothing remains ahead.'));
      page.say(banner('warning', h('div', { 'data-testid': 'future-appointment' },
        h('p', {}, h('strong', {}, 'This customer cannot be deleted yet. '), 'They have an appointment ahead, and deleting them would lose it. ',
          'Set their retention policy to Direct instead: they are then erased as soon as no appointment or visit remains ahead.'),
        h('p', { class: 'hint' }, localize(err.message)), direct)));
    }
  });
}
