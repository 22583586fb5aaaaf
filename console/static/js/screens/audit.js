// Audit log (administrators): newest first, filtered on the server by
// action, actor or subject, with "Load more" for older pages.
import { gql } from '../api.js';
import { h, replace, field, errorBanner, table, pageHeader, fmtTime, debounce, loading, localize } from '../ui.js';

// The actions Lethe records: the Audit* constants of retention/ and what
// migrations insert themselves (console/audit_actions_test.go keeps this list
// complete); others seen in the log are added to the list as they appear.
const ACTIONS = ['customer.anonymise', 'customer.create', 'customer.erase', 'customer.export', 'customer.purgeFields', 'customer.setPolicy',
  'customer.setStatus', 'customer.update', 'customer.resurrected', 'ledger.reapply', 'appointment.book', 'visit.start', 'visit.end', 'visit.customFields.purge', 'legalHold.place', 'legalHold.release',
  'policy.create', 'policy.update', 'policy.revert', 'dataPolicy.update', 'fieldPreferences.update', 'customFieldStorage.update',
  'retentionRun.start', 'token.create', 'token.revoke'];
const PAGE = 50;

export async function render(main) {
  const action = h('select', { name: 'action' }, h('option', { value: '' }, 'All actions'), ACTIONS.map((a) => h('option', { value: a }, a)));
  const actor = h('input', { type: 'text', name: 'actor', autocomplete: 'off', placeholder: 'token name or scheduler' });
  const subject = h('input', { type: 'text', name: 'subject', autocomplete: 'off', placeholder: 'customer id, policy…' });
  const fields = { action: field('Action', action), actor: field('Actor', actor), subject: field('Subject', subject) };
  const body = h('div', { 'aria-live': 'polite' }, loading());
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more');
  main.append(pageHeader('Audit log', 'Every change, export and erasure, append-only. It never holds names, emails or phone numbers.'),
    h('form', { class: 'inline-form filters', 'aria-label': 'Filter', onsubmit: (ev) => ev.preventDefault() },
      fields.action.el, fields.actor.el, fields.subject.el), body, h('div', { class: 'actions' }, more));
  let events = [];
  let after = null;
  let seq = 0;
  async function load(reset) {
    const mine = ++seq;
    if (reset) { events = []; after = null; }
    Object.values(fields).forEach((f) => f.setError(''));
    try {
      const d = await gql(`query AuditLog($first: Int, $after: ID, $action: String, $actor: String, $subject: String) {
        auditLog(first: $first, after: $after, action: $action, actor: $actor, subject: $subject) { id at actor action subject details } }`,
      { first: PAGE, after, action: action.value || null, actor: actor.value.trim() || null, subject: subject.value.trim() || null }, 'AuditLog');
      if (mine !== seq) return;
      events.push(...d.auditLog);
      if (d.auditLog.length) after = d.auditLog[d.auditLog.length - 1].id;
      more.hidden = d.auditLog.length < PAGE;
      replace(body, table(['Time', 'Actor', 'Action', 'Subject', 'Details'], events.map((e) => [fmtTime(e.at), e.actor, h('span', { class: 'mono' }, e.action), h('span', { class: 'mono' }, e.subject || '—'),
        e.details ? h('code', { class: 'details' }, localize(JSON.stringify(e.details))) : '—']), { empty: 'No event matches.', caption: `${events.length} event${events.length === 1 ? '' : 's'} shown` }));
    } catch (err) {
      if (mine !== seq) return;
      if (fields[err.field]) fields[err.field].setError(err.explain()); else replace(body, errorBanner(err));
    }
  }
  action.addEventListener('change', () => load(true));
  const typed = debounce(() => load(true), 300);
  actor.addEventListener('input', typed);
  subject.addEventListener('input', typed);
  more.addEventListener('click', () => load(false));
  await load(true);
}
