// Handle customers: search as you type (name, email or phone), paginated;
// a customer's details, policy, legal holds, delete (with the
// FUTURE_APPOINTMENT refusal explained and "set Direct instead" offered) and
// export as <firstname>_<lastname>.json.
import { gql } from '../api.js';
import { h, replace, field, errorBanner, banner, table, pageHeader, debounce, fmtTime, fmtNum, confirmDialog, loading } from '../ui.js';

const PAGE = 20;
const FIELD_NAMES = { FIRST_NAME: 'firstName', LAST_NAME: 'lastName', EMAIL: 'email', PHONE: 'phone' };
const FIELD_LABELS = { firstName: 'First name', lastName: 'Last name', email: 'Email', phone: 'Phone' };

export async function render(main, ctx) {
  if (ctx.params[0]) return renderCustomer(main, ctx, ctx.params[0]);
  main.append(pageHeader('Handle customers', 'Search by name, email or phone; open a customer to see their data, change their policy, export or delete them.'));
  const q = h('input', { type: 'search', name: 'search', autocomplete: 'off', placeholder: 'Name, email or phone', value: sessionStorage.getItem('lethe.search') || '' });
  const f = field('Search customers', q);
  const results = h('div', { 'aria-live': 'polite', 'data-testid': 'results' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  main.append(h('form', { class: 'search', role: 'search', onsubmit: (ev) => { ev.preventDefault(); go(); } }, f.el), results, pager);
  let cursors = [null];
  let page = 0;
  let seq = 0;

  async function go(p = 0) {
    page = p;
    if (p === 0) cursors = [null];
    const mine = ++seq;
    sessionStorage.setItem('lethe.search', q.value);
    results.setAttribute('aria-busy', 'true');
    try {
      const d = await gql(`query SearchCustomers($search: String, $first: Int, $after: String) {
        customers(search: $search, first: $first, after: $after) { totalCount totalCountCapped pageInfo { hasNextPage endCursor }
          edges { node { id firstName lastName email phone status lastInteractionAt deletionTime retentionPolicy { name } } } } }`,
      { search: q.value.trim() || null, first: PAGE, after: cursors[page] }, 'SearchCustomers');
      if (mine !== seq || !ctx.isCurrent()) return;
      const c = d.customers;
      cursors[page + 1] = c.pageInfo.endCursor;
      const name = (n) => [n.firstName, n.lastName].filter(Boolean).join(' ') || h('em', {}, 'no name');
      replace(results,
        // The server counts exactly up to a cap; above it, it says so.
        h('p', { class: 'count', 'data-testid': 'total' }, c.totalCountCapped
          ? `More than ${fmtNum(c.totalCount)} customers` : `${fmtNum(c.totalCount)} customer${c.totalCount === 1 ? '' : 's'}`),
        table(['Name', 'Email', 'Phone', 'Status', 'Last interaction', 'Deletion time', 'Policy'], c.edges.map(({ node: n }) => h('tr', {},
          h('th', { scope: 'row' }, h('a', { href: `#/customers/${encodeURIComponent(n.id)}` }, name(n))),
          h('td', {}, n.email || '—'), h('td', {}, n.phone || '—'),
          h('td', {}, statusTag(n.status)), h('td', {}, fmtTime(n.lastInteractionAt)), h('td', {}, fmtTime(n.deletionTime)),
          h('td', { class: 'mono' }, n.retentionPolicy.name))), { empty: 'No customer matches.' }));
      replace(pager,
        h('button', { type: 'button', class: 'btn', disabled: page === 0, onclick: () => go(page - 1) }, '← Previous'),
        h('span', {}, c.totalCountCapped ? `Page ${page + 1}` : `Page ${page + 1} of ${Math.max(1, Math.ceil(c.totalCount / PAGE))}`),
        h('button', { type: 'button', class: 'btn', disabled: !c.pageInfo.hasNextPage, onclick: () => go(page + 1) }, 'Next →'));
    } catch (err) {
      if (mine !== seq) return;
      if (err.code === 'BAD_USER_INPUT') { f.setError(err.explain()); replace(results); } else replace(results, errorBanner(err));
    } finally {
      results.removeAttribute('aria-busy');
    }
  }
  q.addEventListener('input', debounce(() => { f.setError(''); go(0); }, 250));
  q.focus();
  await go(0);
}

function statusTag(s) { return h('span', { class: `status status-${s.toLowerCase()}` }, s.toLowerCase()); }

const CUSTOMER = `query Customer($id: ID!) {
  customer(id: $id) { id firstName lastName email phone status statusChangedAt lastInteractionAt createdAt anonymisedAt
    retentionPolicy { name retentionDays } retentionPolicyAssigned deletionTime deletionReason
    legalHolds { id reason placedAt until releasedAt active }
    appointments { id startsAt endsAt }
    visits { id startedAt endedAt customFields { field value } } }
  retentionPolicies { name retentionDays }
  fieldPreferences { collectionEnabled fields { field mode } } }`;

async function renderCustomer(main, ctx, id) {
  const back = h('a', { href: '#/customers', class: 'back' }, '← All customers');
  const body = h('div', {}, loading());
  const status = h('div', { 'aria-live': 'polite' });
  main.append(back, body);

  async function load(message) {
    let d;
    try { d = await gql(CUSTOMER, { id }, 'Customer'); } catch (err) { replace(body, errorBanner(err)); return; }
    const c = d.customer;
    if (!c) { replace(body, banner('info', 'This customer does not exist or has been erased.')); return; }
    const hidden = new Set(d.fieldPreferences.fields.filter((f) => f.mode === 'HIDDEN').map((f) => FIELD_NAMES[f.field]));
    const name = [c.firstName, c.lastName].filter(Boolean).join(' ') || 'Customer without a name';
    const facts = [];
    for (const k of ['firstName', 'lastName', 'email', 'phone']) if (!hidden.has(k) && d.fieldPreferences.collectionEnabled) facts.push([FIELD_LABELS[k], c[k] || '—']);
    facts.push(['Status', statusTag(c.status)], ['Status changed', fmtTime(c.statusChangedAt)], ['Last interaction', fmtTime(c.lastInteractionAt)],
      ['Customer since', fmtTime(c.createdAt)], ['Deletion time', h('strong', { 'data-testid': 'deletion-time' }, fmtTime(c.deletionTime))],
      ['Why', h('span', { 'data-testid': 'deletion-reason' }, c.deletionReason || '—')],
      ['Retention policy', h('span', { 'data-testid': 'policy' }, `${c.retentionPolicy.name} (${fmtNum(c.retentionPolicy.retentionDays)} days${c.retentionPolicyAssigned ? ', assigned' : ', automatic'})`)]);
    if (c.anonymisedAt) facts.push(['Anonymised', fmtTime(c.anonymisedAt)]);

    const policySel = h('select', { name: 'policy' }, d.retentionPolicies.map((p) => h('option', { value: p.name, selected: p.name === c.retentionPolicy.name }, `${p.name} (${p.retentionDays} days)`)));
    const fpol = field('Policy', policySel);
    const policyForm = h('form', { class: 'inline-form', 'aria-label': 'Edit policy' }, fpol.el,
      h('button', { type: 'submit', class: 'btn btn-primary' }, 'Set policy'),
      c.retentionPolicyAssigned ? h('button', { type: 'button', class: 'btn', onclick: clearPolicy }, 'Use automatic policy') : null);
    policyForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      await act(() => gql('mutation SetCustomerPolicy($id: ID!, $policy: ID!) { setCustomerRetentionPolicy(id: $id, policy: $policy) { id } }', { id, policy: policySel.value }, 'SetCustomerPolicy'),
        `The policy is now ${policySel.value}.`);
    });
    async function clearPolicy() {
      await act(() => gql('mutation ClearCustomerPolicy($id: ID!) { clearCustomerRetentionPolicy(id: $id) { id } }', { id }, 'ClearCustomerPolicy'), 'The policy is chosen automatically again.');
    }

    const reason = h('input', { type: 'text', name: 'reason', autocomplete: 'off' });
    const until = h('input', { type: 'date', name: 'until' });
    const freason = field('Reason', reason);
    const funtil = field('Until (optional)', until);
    const holdForm = h('form', { class: 'inline-form', 'aria-label': 'Place a legal hold' }, freason.el, funtil.el, h('button', { type: 'submit', class: 'btn' }, 'Place hold'));
    holdForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      freason.setError(''); funtil.setError('');
      if (!reason.value.trim()) { freason.setError('Say why the data must be kept.'); return; }
      try {
        await gql('mutation PlaceLegalHold($customerId: ID!, $reason: String!, $until: Time) { placeLegalHold(customerId: $customerId, reason: $reason, until: $until) { id } }',
          { customerId: id, reason: reason.value.trim(), until: until.value ? new Date(`${until.value}T23:59:59Z`).toISOString() : null }, 'PlaceLegalHold');
        load('The legal hold is placed: nothing will be erased or anonymised while it lasts.');
      } catch (err) {
        if (err.field === 'until') funtil.setError(err.explain()); else if (err.field === 'reason') freason.setError(err.explain()); else replace(status, errorBanner(err));
      }
    });

    const holds = table(['Reason', 'Placed', 'Until', 'State', ''], c.legalHolds.map((lh) => [lh.reason, fmtTime(lh.placedAt), lh.until ? fmtTime(lh.until) : 'no end',
      lh.active ? 'active' : (lh.releasedAt ? `released ${fmtTime(lh.releasedAt)}` : 'ended'),
      lh.active ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => act(() => gql('mutation ReleaseLegalHold($id: ID!) { releaseLegalHold(id: $id) }', { id: lh.id }, 'ReleaseLegalHold'), 'The legal hold is released.') }, 'Release') : '']), { empty: 'No legal holds.' });
    const appts = table(['Starts', 'Ends'], c.appointments.map((a) => [fmtTime(a.startsAt), fmtTime(a.endsAt)]), { empty: 'No appointments.' });
    const visits = table(['Started', 'Ended', 'Custom fields'], c.visits.map((v) => [fmtTime(v.startedAt), v.endedAt ? fmtTime(v.endedAt) : 'open',
      v.customFields.filter((cf) => cf.value).map((cf) => `${cf.field}: ${cf.value}`).join(', ') || '—']), { empty: 'No visits.' });

    replace(body,
      pageHeader(name, c.id,
        h('button', { type: 'button', class: 'btn', onclick: exportCustomer }, 'Export'),
        h('button', { type: 'button', class: 'btn btn-danger', onclick: () => deleteCustomer(name) }, 'Delete')),
      message ? banner('success', message) : null,
      status,
      h('div', { class: 'grid-2' },
        h('section', { class: 'card', 'aria-labelledby': 'sec-details' }, h('h2', { id: 'sec-details' }, 'Details'),
          h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))),
        h('section', { class: 'card', 'aria-labelledby': 'sec-policy' }, h('h2', { id: 'sec-policy' }, 'Edit policy'), policyForm,
          h('h2', { id: 'sec-holds' }, 'Legal holds'), holds, holdForm)),
      h('section', { class: 'card', 'aria-labelledby': 'sec-appts' }, h('h2', { id: 'sec-appts' }, 'Appointments'), appts),
      h('section', { class: 'card', 'aria-labelledby': 'sec-visits' }, h('h2', { id: 'sec-visits' }, 'Visits'), visits));
    document.title = `${name} · Lethe`;
  }

  async function act(fn, message) {
    replace(status);
    try { await fn(); await load(message); } catch (err) { replace(status, errorBanner(err)); }
  }

  async function exportCustomer() {
    replace(status, loading('Collecting everything held on this customer…'));
    try {
      const { exportCustomer: e } = await gql('mutation ExportCustomer($id: ID!) { exportCustomer(id: $id) { fileName data } }', { id }, 'ExportCustomer');
      const url = URL.createObjectURL(new Blob([JSON.stringify(e.data, null, 2)], { type: 'application/json' }));
      const a = h('a', { href: url, download: e.fileName, class: 'visually-hidden' }, 'download');
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      replace(status, banner('success', `Exported as ${e.fileName}.`));
    } catch (err) { replace(status, errorBanner(err)); }
  }

  async function deleteCustomer(name) {
    const ok = await confirmDialog({ title: `Delete ${name}?`, danger: true, confirm: 'Delete everywhere',
      body: [h('p', {}, 'Their personal data is erased from Lethe and every connected store. Only a tombstone with the id and the record of what was done remains.'), h('p', {}, h('strong', {}, 'This cannot be undone.'))] });
    if (!ok) return;
    replace(status, loading('Erasing…'));
    try {
      await gql('mutation DeleteCustomer($id: ID!) { deleteCustomer(id: $id) }', { id }, 'DeleteCustomer');
      replace(body, banner('success', `${name} has been erased everywhere.`), h('p', {}, h('a', { href: '#/customers' }, 'Back to customers')));
    } catch (err) {
      if (err.code === 'FUTURE_APPOINTMENT') {
        replace(status, banner('warning', h('div', { 'data-testid': 'future-appointment' },
          h('p', {}, h('strong', {}, 'This customer cannot be deleted yet. '), 'They have an appointment ahead, and deleting them would lose it. ',
            'Set their retention policy to Direct instead: they are then erased as soon as no appointment or visit remains ahead.'),
          h('p', { class: 'hint' }, err.message),
          h('button', { type: 'button', class: 'btn btn-primary', onclick: () => act(() => gql('mutation SetCustomerPolicy($id: ID!, $policy: ID!) { setCustomerRetentionPolicy(id: $id, policy: $policy) { id } }', { id, policy: 'direct' }, 'SetCustomerPolicy'), 'The policy is now direct: the customer is erased once nothing remains ahead.') }, 'Set Direct instead'))));
      } else replace(status, errorBanner(err));
    }
  }

  await load();
}
