// Audit log (administrators): newest first, each event as a sentence,
// filtered on the server by action, actor, subject, date range and text
// that matches part of an actor or subject, with "Load more" for older
// pages, a CSV of the filtered events and the evidence pack of the date
// range (docs/audit-and-evidence.md).
import { gql, token } from '../api.js';
import { h, replace, field, errorBanner, table, pageHeader, fmtTime, debounce, loading, localize, busy } from '../ui.js';

// The actions Lethe records: the Audit* constants of retention/ and what
// migrations insert themselves (console/audit_actions_test.go keeps this list
// complete); others seen in the log are added to the list as they appear.
const ACTIONS = ['customer.anonymise', 'customer.create', 'customer.erase', 'customer.export', 'customer.purgeFields', 'customer.setPolicy',
  'customer.setStatus', 'customer.update', 'customer.resurrected', 'ledger.reapply', 'appointment.book', 'visit.start', 'visit.end', 'visit.customFields.purge', 'legalHold.place', 'legalHold.release',
  'policy.create', 'policy.update', 'policy.revert', 'policy.delete', 'dataPolicy.update', 'fieldPreferences.update', 'customFieldStorage.update',
  'retentionRun.start', 'token.create', 'token.revoke'];
const PAGE = 50;

export async function render(main) {
  const action = h('select', { name: 'action' }, h('option', { value: '' }, 'All actions'), ACTIONS.map((a) => h('option', { value: a }, a)));
  const actor = h('input', { type: 'text', name: 'actor', autocomplete: 'off', placeholder: 'token name or scheduler' });
  const subject = h('input', { type: 'text', name: 'subject', autocomplete: 'off', placeholder: 'customer id, policy…' });
  const text = h('input', { type: 'search', name: 'text', autocomplete: 'off', placeholder: 'part of an actor or subject' });
  const from = h('input', { type: 'date', name: 'from' });
  const to = h('input', { type: 'date', name: 'to' });
  const fields = { action: field('Action', action), actor: field('Actor', actor), subject: field('Subject', subject), text: field('Contains', text),
    from: field('From', from), to: field('To (included)', to) };
  const status = h('div', { 'aria-live': 'polite', 'data-testid': 'audit-status' });
  const csv = h('button', { type: 'button', class: 'btn' }, 'Download CSV');
  const pack = h('button', { type: 'button', class: 'btn' }, 'Evidence pack');
  const body = h('div', { 'aria-live': 'polite' }, loading());
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more');
  main.append(pageHeader('Audit log', 'Every change, export and erasure, append-only. It never holds names, emails or phone numbers.'),
    h('form', { class: 'inline-form filters', 'aria-label': 'Filter', onsubmit: (ev) => ev.preventDefault() },
      fields.action.el, fields.actor.el, fields.subject.el, fields.text.el, fields.from.el, fields.to.el),
    h('div', { class: 'actions' }, csv, pack), status, body, h('div', { class: 'actions' }, more));
  // The date inputs are days: from its midnight, to the midnight after
  // the "to" day (UTC), as the API's from (included) and to (excluded).
  const day = (v, plus) => (v ? new Date(Date.parse(`${v}T00:00:00Z`) + plus * 86400000).toISOString().replace('.000Z', 'Z') : null);
  const filter = () => ({ action: action.value || null, actor: actor.value.trim() || null, subject: subject.value.trim() || null,
    text: text.value.trim() || null, from: day(from.value, 0), to: day(to.value, 1) });
  let events = [];
  let after = null;
  let seq = 0;
  async function load(reset) {
    const mine = ++seq;
    if (reset) { events = []; after = null; }
    Object.values(fields).forEach((f) => f.setError(''));
    try {
      const d = await gql(`query AuditLog($first: Int, $after: ID, $action: String, $actor: String, $subject: String, $text: String, $from: Time, $to: Time) {
        auditLog(first: $first, after: $after, action: $action, actor: $actor, subject: $subject, text: $text, from: $from, to: $to) {
          id at actor action subject details sentence } }`, { first: PAGE, after, ...filter() }, 'AuditLog');
      if (mine !== seq) return;
      events.push(...d.auditLog);
      if (d.auditLog.length) after = d.auditLog[d.auditLog.length - 1].id;
      more.hidden = d.auditLog.length < PAGE;
      replace(body, table(['Time', 'Actor', 'Action', 'Subject', 'What'], events.map((e) => [fmtTime(e.at), e.actor, h('span', { class: 'mono' }, e.action), h('span', { class: 'mono' }, e.subject || '—'),
        h('span', { title: e.details ? localize(JSON.stringify(e.details)) : '' }, e.sentence)]), { empty: 'No event matches.', caption: `${events.length} event${events.length === 1 ? '' : 's'} shown` }));
    } catch (err) {
      if (mine !== seq) return;
      if (fields[err.field]) fields[err.field].setError(err.explain()); else replace(body, errorBanner(err));
    }
  }
  action.addEventListener('change', () => load(true));
  const typed = debounce(() => load(true), 300);
  actor.addEventListener('input', typed);
  subject.addEventListener('input', typed);
  text.addEventListener('input', typed);
  from.addEventListener('change', () => load(true));
  to.addEventListener('change', () => load(true));
  more.addEventListener('click', () => load(false));
  csv.addEventListener('click', () => busy(csv, () => downloadCSV(filter(), status)));
  pack.addEventListener('click', () => busy(pack, () => downloadPack(filter(), status)));
  await load(true);
}

function download(blob, fileName) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: fileName, class: 'visually-hidden' }, 'download');
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// downloadCSV saves the events the filters select (all pages) as CSV.
async function downloadCSV(f, status) {
  try {
    const d = await gql(`query AuditLogCsv($action: String, $actor: String, $subject: String, $text: String, $from: Time, $to: Time) {
      auditLogCsv(action: $action, actor: $actor, subject: $subject, text: $text, from: $from, to: $to) }`, f, 'AuditLogCsv');
    const rows = d.auditLogCsv.trimEnd().split('\n').length - 1;
    download(new Blob([d.auditLogCsv], { type: 'text/csv' }), 'audit-log.csv');
    replace(status, `${rows} event${rows === 1 ? '' : 's'} saved as audit-log.csv.`);
  } catch (err) {
    replace(status, errorBanner(err));
  }
}

// downloadPack saves the evidence pack of the date range (both dates
// needed): a zip an auditor opens without Lethe.
async function downloadPack(f, status) {
  if (!f.from || !f.to) {
    replace(status, 'Choose the period first: a From and a To date.');
    return;
  }
  try {
    const res = await fetch(`/evidence?from=${encodeURIComponent(f.from)}&to=${encodeURIComponent(f.to)}`, {
      headers: { Authorization: `Bearer ${token.get()}` }, cache: 'no-store', credentials: 'omit' });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      replace(status, `The evidence pack could not be made: ${body.error?.message || res.statusText}`);
      return;
    }
    const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '')?.[1] || 'evidence.zip';
    download(await res.blob(), name);
    replace(status, `Saved ${name}.`);
  } catch (err) {
    replace(status, errorBanner(err));
  }
}
