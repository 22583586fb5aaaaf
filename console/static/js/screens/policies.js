// Retention policies: the built-ins and custom ones; admins edit (with a
// preview of what the change relinquishes now and over the year), revert
// create, and delete a custom policy no customer is assigned.
import { gql } from '../api.js';
import { h, replace, field, errorBanner, banner, table, pageHeader, readOnlyNote, debounce, fmtNum, confirmDialog, loading, busy } from '../ui.js';
import { forecastChart, FORECAST_FIELDS } from '../chart.js';

const POLICIES = 'query RetentionPolicies { retentionPolicies { name description retentionDays defaultDays builtIn version } }';

export async function render(main, ctx) {
  const admin = ctx.can('ADMIN');
  const body = h('div', {}, loading());
  main.append(...[pageHeader('Retention policies', 'How many days after a customer\'s latest event their personal data is erased. Changes apply retrospectively to every customer a policy governs.',
    admin ? h('button', { type: 'button', class: 'btn btn-primary', onclick: () => openCreate() }, 'New policy') : null),
  admin ? null : readOnlyNote('Your role can read policies; only an administrator can change them.'),
  body].filter(Boolean));
  const editor = h('section', { class: 'editor', 'aria-live': 'polite' });
  main.append(editor);

  async function load() {
    try {
      const { retentionPolicies } = await gql(POLICIES, {}, 'RetentionPolicies');
      replace(body, table(['Policy', 'Description', 'Days', 'Default', ''], retentionPolicies.map((p) => h('tr', { dataset: { policy: p.name } },
        h('th', { scope: 'row' }, h('span', { class: 'mono' }, p.name), p.builtIn ? h('span', { class: 'tag' }, 'built-in') : null),
        h('td', {}, p.description),
        h('td', { class: 'num', 'data-testid': 'days' }, fmtNum(p.retentionDays)),
        h('td', { class: 'num' }, p.builtIn ? fmtNum(p.defaultDays) : '—'),
        h('td', { class: 'row-actions' }, admin ? [
          h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Edit ${p.name}`, onclick: () => openEdit(p) }, 'Edit'),
          p.builtIn ? null : [' ', h('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Delete ${p.name}`, onclick: (ev) => remove(p, ev.currentTarget) }, 'Delete')],
        ] : null)))));
    } catch (err) {
      replace(body, errorBanner(err));
    }
  }

  function openEdit(p) {
    const days = h('input', { type: 'number', min: 0, max: 3650, step: 1, value: p.retentionDays, inputmode: 'numeric', name: 'retentionDays' });
    const desc = h('textarea', { rows: 2, name: 'description' }, p.description);
    const fd = field('Retention days (0–3650)', days);
    const fdesc = field('Description', desc);
    const preview = h('div', { class: 'preview', 'data-testid': 'policy-preview' });
    const status = h('div');
    let current = null;
    const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save');
    const runPreview = debounce(async () => {
      fd.setError('');
      const n = Number(days.value);
      if (days.value === '' || !Number.isInteger(n)) { fd.setError('Enter a whole number of days.'); return; }
      if (n === p.retentionDays) { replace(preview, h('p', { class: 'hint' }, 'Change the days to see what it would relinquish.')); return; }
      replace(preview, loading('Previewing…'));
      try {
        const [d, now] = await Promise.all([
          gql(`query PolicyPreview($input: UpdateRetentionPolicyInput!) { retentionPolicyUpdatePreview(input: $input) { customersPlanned addedByChange forecast { ${FORECAST_FIELDS} } } }`,
            { input: { name: p.name, retentionDays: n } }, 'PolicyPreview'),
          current || gql(`query Forecast { retentionForecast { ${FORECAST_FIELDS} } }`, {}, 'Forecast'),
        ]);
        current = now;
        const r = d.retentionPolicyUpdatePreview;
        replace(preview,
          banner(r.customersPlanned > 0 ? 'warning' : 'info', h('strong', { 'data-testid': 'preview-count' }, `This would relinquish ${fmtNum(r.customersPlanned)} customer${r.customersPlanned === 1 ? '' : 's'} now`,
            r.addedByChange ? `, ${fmtNum(r.addedByChange)} of them because of this change.` : '.')),
          r.forecast ? forecastChart(r.forecast, { title: `With ${n} days`, compare: now.retentionForecast }) : null);
      } catch (err) {
        if (err.field === 'retentionDays' || err.code === 'BAD_USER_INPUT') { fd.setError(err.explain()); replace(preview); } else replace(preview, errorBanner(err));
      }
    }, 350);
    days.addEventListener('input', runPreview);
    const form = h('form', { class: 'card', 'aria-labelledby': 'edit-title' },
      h('h2', { id: 'edit-title' }, `Edit ${p.name}`),
      h('div', { class: 'form-grid' }, fd.el, fdesc.el),
      preview, status,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => replace(editor) }, 'Cancel'),
        p.builtIn ? h('button', { type: 'button', class: 'btn', onclick: revert, disabled: p.retentionDays === p.defaultDays }, `Revert to ${p.defaultDays} days`) : null,
        save));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      fd.setError(''); fdesc.setError('');
      const input = { name: p.name };
      if (days.value !== String(p.retentionDays)) input.retentionDays = Number(days.value);
      if (desc.value !== p.description) input.description = desc.value;
      if (days.value === '' || !Number.isInteger(Number(days.value))) { fd.setError('Enter a whole number of days.'); return; }
      busy(save, async () => {
        try {
          // Enter in the days field submits too: every save that changes
          // the days asks first when it would relinquish anyone.
          if (input.retentionDays !== undefined && !(await confirmSave(p, input.retentionDays))) {
            replace(status, banner('info', 'Not saved: the policy is unchanged.'));
            return;
          }
          await gql('mutation UpdatePolicy($input: UpdateRetentionPolicyInput!) { updateRetentionPolicy(input: $input) { name retentionDays } }', { input }, 'UpdatePolicy');
          // The table first: an Edit right after must open the saved row.
          await load();
          replace(editor, banner('success', `Saved ${p.name}.`));
        } catch (err) {
          if (err.field === 'retentionDays') fd.setError(err.explain());
          else if (err.field === 'description') fdesc.setError(err.explain());
          else replace(status, errorBanner(err));
        }
      });
    });
    async function revert() {
      const ok = await confirmDialog({ title: `Revert ${p.name}?`, body: h('p', {}, `Its retention goes back to ${p.defaultDays} days, for every customer it governs.`), confirm: 'Revert' });
      if (!ok) return;
      try {
        await gql('mutation RevertPolicy($name: ID!) { revertRetentionPolicy(name: $name) { retentionDays } }', { name: p.name }, 'RevertPolicy');
        await load();
        replace(editor, banner('success', `${p.name} is back to ${p.defaultDays} days.`));
      } catch (err) { replace(status, errorBanner(err)); }
    }
    replace(editor, form);
    days.focus();
  }

  // remove deletes a custom policy after a confirmation; the API refuses
  // (POLICY_IN_USE, with how many) while customers are assigned it.
  async function remove(p, button) {
    replace(editor); // what an earlier action said does not stay beside this one
    const ok = await confirmDialog({
      title: `Delete ${p.name}?`, danger: true, confirm: 'Delete policy',
      body: h('p', {}, 'A custom policy can be deleted only when no customer is assigned it. This cannot be undone; the audit log keeps that it existed.'),
    });
    if (!ok) { replace(editor, banner('info', `Not deleted: ${p.name} is unchanged.`)); return; }
    await busy(button, async () => {
      try {
        await gql('mutation DeletePolicy($name: ID!) { deleteRetentionPolicy(name: $name) { name } }', { name: p.name }, 'DeletePolicy');
        await load();
        replace(editor, banner('success', `Deleted ${p.name}.`));
      } catch (err) {
        replace(editor, errorBanner(err));
      }
    });
  }

  function openCreate() {
    const name = h('input', { type: 'text', name: 'name', pattern: '[a-z][a-z0-9_]*', autocomplete: 'off', placeholder: 'tax_records' });
    const days = h('input', { type: 'number', min: 0, max: 3650, step: 1, name: 'retentionDays', value: 365 });
    const desc = h('textarea', { rows: 2, name: 'description' });
    const fn = field('Name', name, 'Lower case letters, digits and _.');
    const fd = field('Retention days (0–3650)', days);
    const fdesc = field('Description', desc);
    const status = h('div');
    const form = h('form', { class: 'card', 'aria-labelledby': 'create-title' },
      h('h2', { id: 'create-title' }, 'New retention policy'),
      h('div', { class: 'form-grid' }, fn.el, fd.el, fdesc.el), status,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', onclick: () => replace(editor) }, 'Cancel'), h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      [fn, fd, fdesc].forEach((f) => f.setError(''));
      if (days.value === '' || !Number.isInteger(Number(days.value))) { fd.setError('Enter a whole number of days.'); return; }
      try {
        await gql('mutation CreatePolicy($input: CreateRetentionPolicyInput!) { createRetentionPolicy(input: $input) { name } }',
          { input: { name: name.value.trim(), retentionDays: Number(days.value), description: desc.value } }, 'CreatePolicy');
        const created = name.value.trim();
        await load();
        replace(editor, banner('success', `Created ${created}.`));
      } catch (err) {
        const f = { name: fn, retentionDays: fd, description: fdesc }[err.field];
        if (f) f.setError(err.explain()); else replace(status, errorBanner(err));
      }
    });
    replace(editor, form);
    name.focus();
  }

  await load();
}

// confirmSave previews the new days and, when the change would relinquish
// anyone at the next sweep, asks; when it adds customers to those already
// due, the policy's name must be typed. Resolves true to save.
async function confirmSave(p, days) {
  const pv = await gql('query PolicyPreviewCount($input: UpdateRetentionPolicyInput!) { retentionPolicyUpdatePreview(input: $input) { customersPlanned addedByChange } }',
    { input: { name: p.name, retentionDays: days } }, 'PolicyPreviewCount');
  const planned = pv.retentionPolicyUpdatePreview.customersPlanned;
  // What the change adds: customers it makes due that the rules in force
  // do not (the rest of the planned were due anyway).
  const added = pv.retentionPolicyUpdatePreview.addedByChange || 0;
  if (planned === 0) return true;
  const people = (n) => `${fmtNum(n)} customer${n === 1 ? '' : 's'}`;
  return confirmDialog({
    title: `Save ${p.name} with ${fmtNum(days)} days?`,
    danger: added > 0,
    confirm: 'Save policy',
    typeToConfirm: added > 0 ? p.name : null,
    body: [h('p', { 'data-testid': 'policy-confirm-count' }, h('strong', {}, added > 0
      ? `This change makes ${people(added)} due now: the next sweep erases them.`
      : 'This change makes nobody due who is not due already.')),
    h('p', {}, `In all, ${people(planned)} would be relinquished at the next sweep. Relinquished data cannot be restored.`)],
  });
}
