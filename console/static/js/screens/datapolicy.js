// Data policy for cancelled and deleted customers — the billing product's
// "Relinquish deleted data" page: the toggle reveals the configuration, a
// DANGER warning, the preview count, and an explicit confirmation before
// anything is saved.
import { gql } from '../api.js';
import { h, replace, field, errorBanner, banner, pageHeader, readOnlyNote, debounce, fmtNum, confirmDialog, loading } from '../ui.js';
import { forecastChart, FORECAST_FIELDS } from '../chart.js';

const FIELDS = 'relinquishDeletedData relinquishAfterDays anonymiseCustomerData removeCDRs usesDefault';
const DEFAULT = { relinquishDeletedData: false, relinquishAfterDays: 90, anonymiseCustomerData: true, removeCDRs: false };

export async function render(main, ctx) {
  const admin = ctx.can('ADMIN');
  main.append(pageHeader('Data policy', 'What happens to the personal data of cancelled and deleted customers.'));
  if (!admin) main.append(readOnlyNote('Your role can read the data policy; only an administrator can change it.'));
  const body = h('div', {}, loading());
  main.append(body);
  let saved;
  try {
    saved = (await gql(`query DataPolicy { dataPolicy { ${FIELDS} } }`, {}, 'DataPolicy')).dataPolicy;
  } catch (err) { replace(body, errorBanner(err)); return; }

  const on = h('input', { type: 'checkbox', role: 'switch', name: 'relinquishDeletedData', checked: saved.relinquishDeletedData, disabled: !admin });
  const days = h('input', { type: 'number', min: 0, max: 3650, step: 1, name: 'relinquishAfterDays', value: saved.relinquishAfterDays, disabled: !admin });
  const anon = h('input', { type: 'checkbox', name: 'anonymiseCustomerData', checked: saved.anonymiseCustomerData, disabled: !admin });
  const cdrs = h('input', { type: 'checkbox', name: 'removeCDRs', checked: saved.removeCDRs, disabled: !admin });
  const fdays = field('Relinquish data after (days)', days, 'Counted from the day the customer was cancelled or deleted; never before their last event has ended.');
  const preview = h('div', { class: 'preview', 'data-testid': 'data-policy-preview' });
  const status = h('div');
  const nothingNote = h('p', { class: 'field-error', 'data-testid': 'nothing-to-do', role: 'alert' });
  const config = h('fieldset', { class: 'config' },
    h('legend', {}, 'Configuration'),
    fdays.el,
    h('div', { class: 'check' }, anon, h('label', { for: anon.id = 'dp-anon' }, h('strong', {}, 'Anonymise customer data'), h('span', { class: 'hint' }, 'Names, phone numbers and emails are removed; invoice PDFs are replaced by blank PDFs.'))),
    h('div', { class: 'check' }, cdrs, h('label', { for: cdrs.id = 'dp-cdrs' }, h('strong', {}, 'Remove CDRs'), h('span', { class: 'hint' }, 'Call detail records are deleted entirely.'))),
    nothingNote,
    banner('danger', h('strong', {}, 'DANGER: '), 'Relinquished data cannot be restored. Once a sweep has anonymised or removed it, it is gone from Lethe and from every connected store.'));
  const input = () => ({ relinquishDeletedData: on.checked, relinquishAfterDays: Number(days.value), anonymiseCustomerData: anon.checked, removeCDRs: cdrs.checked });
  const changed = () => JSON.stringify(input()) !== JSON.stringify({ relinquishDeletedData: saved.relinquishDeletedData, relinquishAfterDays: saved.relinquishAfterDays, anonymiseCustomerData: saved.anonymiseCustomerData, removeCDRs: saved.removeCDRs });
  // On with neither action chosen would relinquish nothing: refused here
  // rather than saved as a policy that only looks active.
  const useless = () => on.checked && !anon.checked && !cdrs.checked;
  const sync = () => {
    config.hidden = !on.checked;
    nothingNote.textContent = useless() ? 'Choose Anonymise customer data, Remove CDRs or both: relinquishing with neither would do nothing.' : '';
    saveBtn.disabled = !changed() || useless();
  };

  let lastPreview = null;
  async function previewOf(dp) {
    const d = await gql(`query DataPolicyPreview($input: DataPolicyInput!) { dataPolicyPreview(input: $input) { customersPlanned addedByChange forecast { ${FORECAST_FIELDS} } } }`, { input: dp }, 'DataPolicyPreview');
    return d.dataPolicyPreview;
  }
  const runPreview = debounce(async () => {
    fdays.setError('');
    lastPreview = null;
    if (!changed()) { replace(preview); return; }
    if (days.value === '' || !Number.isInteger(Number(days.value))) { fdays.setError('Enter a whole number of days.'); return; }
    replace(preview, loading('Previewing…'));
    try {
      const r = await previewOf(input());
      lastPreview = r;
      replace(preview, banner(r.customersPlanned > 0 ? 'warning' : 'info', h('strong', { 'data-testid': 'preview-count' }, `Saving this would relinquish ${fmtNum(r.customersPlanned)} customer${r.customersPlanned === 1 ? '' : 's'} at the next sweep.`)),
        r.forecast ? forecastChart(r.forecast, { title: 'With this data policy' }) : null);
    } catch (err) {
      if (err.field === 'relinquishAfterDays') fdays.setError(err.explain()); else replace(preview, errorBanner(err));
    }
  }, 350);

  const saveBtn = h('button', { type: 'submit', class: 'btn btn-primary', disabled: true }, 'Save');
  const form = h('form', { class: 'card', 'aria-label': 'Data policy' },
    h('div', { class: 'check check-switch' }, on, h('label', { for: on.id = 'dp-on' }, h('strong', {}, 'Relinquish deleted data'), h('span', { class: 'hint' }, 'Anonymise or remove the data of cancelled and deleted customers after a period.'))),
    config,
    h('p', { class: 'hint', 'data-testid': 'uses-default' }, saved.usesDefault ? 'This is the default data policy.' : 'This data policy differs from the default.'),
    preview, status,
    admin ? h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'btn', onclick: useDefault }, 'Use default'),
      saveBtn) : null);
  for (const el of [on, days, anon, cdrs]) el.addEventListener('input', () => { sync(); if (admin) runPreview(); });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!changed() || useless()) return;
    const dp = input();
    let r = lastPreview;
    try { if (!r) r = await previewOf(dp); } catch (err) {
      if (err.field === 'relinquishAfterDays') { fdays.setError(err.explain()); return; }
      replace(status, errorBanner(err)); return;
    }
    const ok = await confirmDialog({
      title: 'Save the data policy?',
      danger: true,
      confirm: 'Save data policy',
      body: [h('p', { 'data-testid': 'confirm-count' }, `The next sweep will relinquish ${fmtNum(r.customersPlanned)} customer${r.customersPlanned === 1 ? '' : 's'} under this policy`,
        r.addedByChange ? `, ${fmtNum(r.addedByChange)} of them because of this change.` : '.'),
        h('p', {}, h('strong', {}, 'Relinquished data cannot be restored.'))],
    });
    if (!ok) return;
    await save('mutation UpdateDataPolicy($input: DataPolicyInput!) { updateDataPolicy(input: $input) { ' + FIELDS + ' } }', { input: dp }, 'UpdateDataPolicy');
  });
  async function useDefault() {
    let r;
    try { r = await previewOf(DEFAULT); } catch (err) { replace(status, errorBanner(err)); return; }
    const ok = await confirmDialog({
      title: 'Use the default data policy?',
      body: [h('p', {}, 'Relinquishing off, 90 days, anonymise on, remove CDRs off.'),
        h('p', {}, `The next sweep would relinquish ${fmtNum(r.customersPlanned)} customer${r.customersPlanned === 1 ? '' : 's'}.`)],
      confirm: 'Use default',
    });
    if (!ok) return;
    await save(`mutation UseDefaultDataPolicy { useDefaultDataPolicy { ${FIELDS} } }`, {}, 'UseDefaultDataPolicy');
  }
  async function save(query, vars, op) {
    try {
      const d = await gql(query, vars, op);
      saved = d.updateDataPolicy || d.useDefaultDataPolicy;
      on.checked = saved.relinquishDeletedData; days.value = saved.relinquishAfterDays; anon.checked = saved.anonymiseCustomerData; cdrs.checked = saved.removeCDRs;
      lastPreview = null;
      replace(preview);
      replace(status, banner('success', 'The data policy is saved. Deletion times of every customer have been recomputed.'));
      form.querySelector('[data-testid="uses-default"]').textContent = saved.usesDefault ? 'This is the default data policy.' : 'This data policy differs from the default.';
      sync();
    } catch (err) {
      if (err.field === 'relinquishAfterDays') fdays.setError(err.explain()); else replace(status, errorBanner(err));
    }
  }
  replace(body, form);
  sync();
}
