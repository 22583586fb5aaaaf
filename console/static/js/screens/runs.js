// Runs: history, a dry run (optionally as of a future date) with its plan,
// "Run now" with live progress from the retentionRunProgress subscription,
// and failures by connector.
import { gql, subscribe } from '../api.js';
import { h, replace, field, errorBanner, banner, table, pageHeader, fmtTime, fmtNum, confirmDialog, loading } from '../ui.js';

const RUN = 'id dryRun status trigger actor startedAt finishedAt asOf customersPlanned customersDone customersFailed customersSkipped actionsPlanned error';

export async function render(main, ctx) {
  const admin = ctx.can('ADMIN');
  const operator = ctx.can('OPERATOR');
  const asOf = h('input', { type: 'date', name: 'asOf' });
  const fAsOf = field('As of (optional)', asOf, 'See what a sweep on a future day would relinquish.');
  const result = h('div', { 'aria-live': 'polite' });
  const history = h('section', { class: 'card', 'aria-labelledby': 'hist-title' }, loading());
  const dryForm = h('form', { class: 'inline-form', 'aria-label': 'Dry run' }, fAsOf.el, h('button', { type: 'submit', class: 'btn' }, 'Dry run'));
  main.append(pageHeader('Runs', 'Sweeps relinquish what has expired. A dry run shows the plan and changes nothing.',
    admin ? h('button', { type: 'button', class: 'btn btn-primary', onclick: runNow }, 'Run now') : null),
  operator ? h('section', { class: 'card', 'aria-label': 'Dry run' }, dryForm) : banner('info', 'Your role can read runs; operators start dry runs and administrators real ones.'),
  result, history);

  dryForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fAsOf.setError('');
    replace(result, loading('Planning…'));
    try {
      const d = await gql(`mutation DryRun($asOf: Time) { runRetention(dryRun: true, asOf: $asOf) { ${RUN} actions(first: 100) { customerId connector action } } }`,
        { asOf: asOf.value ? new Date(`${asOf.value}T23:59:59Z`).toISOString() : null }, 'DryRun');
      const r = d.runRetention;
      replace(result, h('section', { class: 'card', 'aria-labelledby': 'plan-title' },
        h('h2', { id: 'plan-title' }, `Plan as of ${fmtTime(r.asOf)}`),
        h('p', { 'data-testid': 'dry-run-count' }, `${fmtNum(r.customersPlanned)} customers, ${fmtNum(r.actionsPlanned)} connector actions.`),
        table(['Customer', 'Store', 'Action'], r.actions.map((a) => [h('span', { class: 'mono' }, a.customerId), a.connector, a.action]), { empty: 'Nothing is due.', caption: r.actionsPlanned + r.customersPlanned > r.actions.length ? `The first ${r.actions.length} lines` : undefined })));
      loadHistory();
    } catch (err) {
      if (err.field === 'asOf') { fAsOf.setError(err.explain()); replace(result); } else replace(result, errorBanner(err));
    }
  });

  async function runNow() {
    const ok = await confirmDialog({ title: 'Run a sweep now?', danger: true, confirm: 'Run now',
      body: [h('p', {}, 'Every customer whose deletion time has passed is erased or anonymised, in Lethe and in every connected store.'), h('p', {}, h('strong', {}, 'Relinquished data cannot be restored.'))] });
    if (!ok) return;
    let run;
    try {
      run = (await gql(`mutation RunNow { runRetention(dryRun: false) { ${RUN} } }`, {}, 'RunNow')).runRetention;
    } catch (err) { replace(result, errorBanner(err)); return; }
    const bar = h('progress', { max: 1, value: 0, 'aria-label': 'Sweep progress' });
    const text = h('p', { 'data-testid': 'progress-text' }, 'Starting…');
    const stateEl = h('strong', { 'data-testid': 'run-status' }, run.status);
    replace(result, h('section', { class: 'card', 'aria-labelledby': 'live-title' }, h('h2', { id: 'live-title' }, 'Sweep ', h('span', { class: 'mono' }, run.id), ' · ', stateEl), bar, text));
    const show = (r) => {
      stateEl.textContent = r.status;
      bar.max = Math.max(1, r.customersPlanned);
      bar.value = r.customersDone + r.customersFailed + r.customersSkipped;
      text.textContent = `${fmtNum(r.customersDone)} of ${fmtNum(r.customersPlanned)} done · ${fmtNum(r.customersFailed)} failed · ${fmtNum(r.customersSkipped)} skipped`;
    };
    show(run);
    subscribe(`subscription RunProgress($id: ID!) { retentionRunProgress(id: $id) { ${RUN} } }`, { id: run.id }, {
      onNext: (d) => show(d.retentionRunProgress),
      onError: (err) => result.append(errorBanner(err)),
      onComplete: () => { if (bar.value >= bar.max) bar.value = bar.max; loadHistory(); },
    });
  }

  async function loadHistory() {
    try {
      const d = await gql(`query Runs { retentionRuns(first: 20) { ${RUN} failures(first: 100) { customerId connector error attempts gaveUp } } }`, {}, 'Runs');
      const rows = d.retentionRuns.map((r) => h('tr', {},
        h('td', {}, fmtTime(r.startedAt)), h('td', {}, r.dryRun ? 'dry run' : 'sweep'), h('td', {}, h('span', { class: `status status-${r.status.toLowerCase()}` }, r.status.toLowerCase())),
        h('td', {}, r.trigger), h('td', {}, r.actor), h('td', { class: 'num' }, fmtNum(r.customersPlanned)), h('td', { class: 'num' }, fmtNum(r.customersDone)),
        h('td', { class: 'num' }, fmtNum(r.customersFailed)), h('td', {}, failuresByConnector(r.failures))));
      replace(history, h('h2', { id: 'hist-title' }, 'History'),
        table(['Started', 'Kind', 'Status', 'Trigger', 'By', 'Planned', 'Done', 'Failed', 'Failures by connector'], rows, { empty: 'No run yet.' }));
    } catch (err) { replace(history, errorBanner(err)); }
  }
  await loadHistory();
}

function failuresByConnector(failures) {
  if (!failures.length) return '—';
  const by = new Map();
  for (const f of failures) {
    const e = by.get(f.connector) || { n: 0, gaveUp: 0, error: f.error };
    e.n += 1; if (f.gaveUp) e.gaveUp += 1;
    by.set(f.connector, e);
  }
  return h('details', {}, h('summary', {}, [...by].map(([c, e]) => `${c}: ${e.n}`).join(', ')),
    h('ul', {}, [...by].map(([c, e]) => h('li', {}, `${c}: ${e.n} customer${e.n === 1 ? '' : 's'}${e.gaveUp ? `, ${e.gaveUp} given up` : ''} — ${e.error}`))));
}
