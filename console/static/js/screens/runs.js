// Runs: a dry run (optionally as of a future day, in the browser's zone)
// with its plan; "Run now", which says first how many customers are due,
// with live progress against that count; the history of real runs and dry
// runs (previews of policy changes are what-ifs, not runs, and are left
// out), page by page; and a run's own page (#/runs/<id>) with its actions
// and failures linked to the customers.
import { gql, subscribe } from '../api.js';
import { h, replace, field, errorBanner, banner, table, pageHeader, fmtTime, fmtNum, confirmDialog, loading, dayEnd, busy, localize } from '../ui.js';

const RUN = 'id dryRun status trigger actor startedAt finishedAt asOf customersPlanned customersDone customersFailed customersSkipped actionsPlanned error';
const PAGE = 20;

export async function render(main, ctx) {
  if (ctx.params[0]) return renderRun(main, ctx.params[0]);
  const admin = ctx.can('ADMIN');
  const operator = ctx.can('OPERATOR');
  const asOf = h('input', { type: 'date', name: 'asOf' });
  const fAsOf = field('As of (optional)', asOf, 'See what a sweep at the end of that day, in your time zone, would relinquish.');
  const result = h('div', { 'aria-live': 'polite' });
  const history = h('section', { class: 'card', 'aria-labelledby': 'hist-title' }, loading());
  const dryBtn = h('button', { type: 'submit', class: 'btn' }, 'Dry run');
  const dryForm = h('form', { class: 'inline-form', 'aria-label': 'Dry run' }, fAsOf.el, dryBtn);
  const runBtn = admin ? h('button', { type: 'button', class: 'btn btn-primary' }, 'Run now') : null;
  main.append(pageHeader('Runs', 'Sweeps relinquish what has expired. A dry run shows the plan and changes nothing.', runBtn),
    operator ? h('section', { class: 'card', 'aria-label': 'Dry run' }, dryForm) : banner('info', 'Your role can read runs; operators start dry runs and administrators real ones.'),
    result, history);
  const hist = historyList(history);

  dryForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    fAsOf.setError('');
    busy(dryBtn, async () => {
      replace(result, loading('Planning…'));
      try {
        const d = await gql(`mutation DryRun($asOf: Time) { runRetention(dryRun: true, asOf: $asOf) { ${RUN} actions(first: 100) { customerId connector action } } }`,
          { asOf: dayEnd(asOf.value) }, 'DryRun');
        const r = d.runRetention;
        replace(result, h('section', { class: 'card', 'aria-labelledby': 'plan-title' },
          h('h2', { id: 'plan-title', 'data-testid': 'plan-as-of' }, `Plan as of ${fmtTime(r.asOf)}`),
          h('p', { 'data-testid': 'dry-run-count' }, `${fmtNum(r.customersPlanned)} customers, ${fmtNum(r.actionsPlanned)} connector actions.`),
          actionsTable(r.actions, r.actionsPlanned + r.customersPlanned > r.actions.length ? `The first ${r.actions.length} lines` : undefined)));
        hist.reload();
      } catch (err) {
        if (err.field === 'asOf') { fAsOf.setError(localize(err.explain())); replace(result); } else replace(result, errorBanner(err));
      }
    });
  });
  if (runBtn) runBtn.addEventListener('click', () => busy(runBtn, () => runNow(result, hist)));
  await hist.reload();
}

// dueNow is how many customers a sweep now would relinquish: the forecast's
// overdue count, read from the stored deletion times (no run is recorded).
async function dueNow() {
  const d = await gql('query DueNow { retentionForecast(weeks: 1) { overdue { erase anonymise } } }', {}, 'DueNow');
  return d.retentionForecast.overdue.erase + d.retentionForecast.overdue.anonymise;
}

async function runNow(result, hist) {
  let due;
  try { due = await dueNow(); } catch (err) { replace(result, errorBanner(err)); return; }
  const ok = await confirmDialog({ title: 'Run a sweep now?', danger: true, confirm: 'Run now',
    body: [h('p', { 'data-testid': 'run-now-count' }, h('strong', {}, `${fmtNum(due)} customer${due === 1 ? ' is' : 's are'} due now`), ' and will be erased or anonymised, in Lethe and in every connected store.'),
      h('p', {}, h('strong', {}, 'Relinquished data cannot be restored.'))] });
  if (!ok) return;
  let run;
  try {
    run = (await gql(`mutation RunNow { runRetention(dryRun: false) { ${RUN} } }`, {}, 'RunNow')).runRetention;
  } catch (err) { replace(result, errorBanner(err)); return; }
  const bar = h('progress', { max: Math.max(1, due), value: 0, 'aria-label': 'Sweep progress' });
  const text = h('p', { 'data-testid': 'progress-text' }, 'Starting…');
  const stateEl = h('strong', { 'data-testid': 'run-status' }, run.status);
  replace(result, h('section', { class: 'card', 'aria-labelledby': 'live-title' },
    h('h2', { id: 'live-title' }, 'Sweep ', h('a', { class: 'mono', href: `#/runs/${encodeURIComponent(run.id)}` }, run.id), ' · ', stateEl), bar, text));
  // The run plans page by page while it dispatches, so its own planned
  // count grows; the total shown is the count due when it started (or the
  // planned count once larger, or once the run has finished).
  const show = (r) => {
    const finished = !!r.finishedAt;
    const total = finished ? r.customersPlanned : Math.max(due, r.customersPlanned);
    stateEl.textContent = r.status;
    bar.max = Math.max(1, total);
    bar.value = Math.min(bar.max, r.customersDone + r.customersFailed + r.customersSkipped);
    text.textContent = `${fmtNum(r.customersDone)} of ${fmtNum(total)} done · ${fmtNum(r.customersFailed)} failed · ${fmtNum(r.customersSkipped)} skipped`;
    text.dataset.total = String(total);
  };
  show(run);
  await new Promise((resolve) => {
    subscribe(`subscription RunProgress($id: ID!) { retentionRunProgress(id: $id) { ${RUN} } }`, { id: run.id }, {
      onNext: (d) => show(d.retentionRunProgress),
      onError: (err) => { result.append(errorBanner(err)); resolve(); },
      onComplete: () => { if (bar.value >= bar.max) bar.value = bar.max; hist.reload(); resolve(); },
    });
  });
}

function kind(r) {
  if (r.dryRun) return 'dry run';
  if (r.trigger === 'purge') return 'field purge';
  if (r.trigger === 'manual') return 'manual erasure';
  return 'sweep';
}

function duration(r) {
  if (!r.finishedAt) return 'running';
  const s = Math.max(0, (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000);
  if (s < 1) return '< 1 s';
  if (s < 120) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

// done says what a run did: a field purge removes the values in Lethe at
// once and journals the connectors' part, which the next run (its own row)
// carries out, so its "done" is not a count of customers.
function done(r) {
  if (r.dryRun) return h('span', { class: 'hint' }, 'nothing (plan only)');
  if (r.trigger === 'purge' && r.customersDone === 0 && r.finishedAt === r.startedAt) return h('span', { class: 'hint', title: 'The values were removed in Lethe at once; the connectors\' part is the next run' }, 'in Lethe; connectors next');
  return fmtNum(r.customersDone);
}

function historyList(section) {
  let after = null;
  let rows = [];
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Older runs');
  async function fetchPage(reset) {
    if (reset) { after = null; rows = []; }
    const d = await gql(`query Runs($after: String) { retentionRunsConnection(first: ${PAGE}, after: $after, includePreviews: false) {
      pageInfo { hasNextPage endCursor } edges { node { ${RUN} } } } }`, { after }, 'Runs');
    const c = d.retentionRunsConnection;
    rows.push(...c.edges.map((e) => e.node));
    after = c.pageInfo.endCursor;
    more.hidden = !c.pageInfo.hasNextPage;
    replace(section, h('h2', { id: 'hist-title' }, 'History'),
      table(['Started', 'Run', 'Status', 'As of', 'Duration', 'Planned', 'Done', 'Failed', ''], rows.map((r) => h('tr', { dataset: { run: r.id, trigger: r.trigger } },
        h('td', { class: 'when' }, fmtTime(r.startedAt)),
        h('td', {}, h('strong', {}, kind(r)), h('br'), h('span', { class: 'hint' }, `${r.trigger} · ${r.actor}`)),
        h('td', {}, h('span', { class: `status status-${r.status.toLowerCase()}` }, r.status.toLowerCase())),
        // As of matters when it is not the start (a dry run a day ahead).
        h('td', { class: 'when' }, Math.abs(Date.parse(r.asOf) - Date.parse(r.startedAt)) < 60000 ? 'its start' : fmtTime(r.asOf)),
        h('td', { class: 'num' }, duration(r)),
        h('td', { class: 'num', dataset: { col: 'planned' } }, fmtNum(r.customersPlanned)), h('td', { class: 'num', dataset: { col: 'done' } }, done(r)),
        h('td', { class: 'num' }, fmtNum(r.customersFailed)),
        h('td', {}, h('a', { href: `#/runs/${encodeURIComponent(r.id)}` }, 'Details')))), { empty: 'No run yet.', caption: `${rows.length} run${rows.length === 1 ? '' : 's'} shown; previews of policy changes are not runs and are not listed` }),
      h('div', { class: 'actions' }, more));
  }
  const reload = async (reset = true) => { try { await fetchPage(reset); } catch (err) { replace(section, errorBanner(err)); } };
  more.addEventListener('click', () => busy(more, () => reload(false)));
  return { reload };
}

function actionsTable(actions, caption) {
  return table(['Customer', 'Store', 'Action'], actions.map((a) => [h('a', { class: 'mono', href: `#/customers/${encodeURIComponent(a.customerId)}` }, a.customerId), a.connector, a.action]),
    { empty: 'Nothing is due.', caption });
}

// renderRun is one run's page: what it was, its actions and its failures.
async function renderRun(main, id) {
  main.append(h('a', { href: '#/runs', class: 'back' }, '← All runs'));
  const body = h('div', {}, loading());
  main.append(body);
  let r;
  try {
    r = (await gql(`query Run($id: ID!) { retentionRun(id: $id) { ${RUN} actions(first: 200) { customerId connector action }
      failures(first: 200) { customerId connector error attempts gaveUp } } }`, { id }, 'Run')).retentionRun;
  } catch (err) { replace(body, errorBanner(err)); return; }
  if (!r) { replace(body, banner('info', 'No run has this id.')); return; }
  const facts = [['Kind', kind(r)], ['Status', r.status.toLowerCase()], ['Trigger', r.trigger], ['By', r.actor], ['Started', fmtTime(r.startedAt)],
    ['Finished', r.finishedAt ? fmtTime(r.finishedAt) : 'running'], ['Duration', duration(r)], ['As of', fmtTime(r.asOf)],
    ['Customers', `${fmtNum(r.customersPlanned)} planned · ${fmtNum(r.customersDone)} done · ${fmtNum(r.customersFailed)} failed · ${fmtNum(r.customersSkipped)} skipped`],
    ['Connector actions', fmtNum(r.actionsPlanned)]];
  if (r.error) facts.push(['Stopped by', localize(r.error)]);
  replace(body, pageHeader(`${r.dryRun ? 'Dry run' : 'Run'} ${r.id}`, null),
    h('section', { class: 'card' }, h('dl', { class: 'facts', 'data-testid': 'run-facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))),
    h('section', { class: 'card', 'aria-labelledby': 'fail-title' }, h('h2', { id: 'fail-title' }, 'Failures'),
      table(['Customer', 'Store', 'Error', 'Attempts', ''], r.failures.map((f) => [h('a', { class: 'mono', href: `#/customers/${encodeURIComponent(f.customerId)}` }, f.customerId),
        f.connector, localize(f.error), fmtNum(f.attempts), f.gaveUp ? 'given up' : 'will retry']), { empty: 'No failures.' })),
    h('section', { class: 'card', 'aria-labelledby': 'act-title' }, h('h2', { id: 'act-title' }, 'Actions'),
      actionsTable(r.actions, r.actions.length < r.actionsPlanned + r.customersPlanned ? `The first ${r.actions.length} lines` : undefined)));
}
