// Settings: collection preferences (Required / Optional / Hidden per field,
// or collection disabled) applied after a Confirm step, and custom-field
// storage (Yes / No per field). Making a field HIDDEN purges stored values;
// the Confirm step shows how many (fieldPreferencesPreview), and cancelling
// it puts the choices back as saved and says that nothing changed.
import { gql } from '../api.js';
import { h, replace, errorBanner, banner, pageHeader, readOnlyNote, confirmDialog, loading, fmtNum } from '../ui.js';

const LABELS = { FIRST_NAME: 'First name', LAST_NAME: 'Last name', EMAIL: 'Email', PHONE: 'Phone' };
const MODES = [['REQUIRED', 'Required'], ['OPTIONAL', 'Optional'], ['HIDDEN', 'Hidden']];

export async function render(main, ctx) {
  const admin = ctx.can('ADMIN');
  main.append(pageHeader('Settings', 'Which customer data Lethe collects, and which visit fields go to the statistics database.'));
  if (!admin) main.append(readOnlyNote('Your role can read the settings; only an administrator can change them.'));
  const prefsBox = h('section', { class: 'card', 'aria-labelledby': 'prefs-title' }, loading());
  const storageBox = h('section', { class: 'card', 'aria-labelledby': 'storage-title' }, loading());
  main.append(prefsBox, storageBox);
  let d;
  try {
    d = await gql('query Settings { fieldPreferences { collectionEnabled fields { field mode } } customFieldStorage { field storeInStatDatabase label } }', {}, 'Settings');
  } catch (err) { replace(prefsBox, errorBanner(err)); replace(storageBox); return; }
  renderPrefs(d.fieldPreferences);
  renderStorage(d.customFieldStorage);

  function renderPrefs(prefs) {
    const enabled = h('input', { type: 'checkbox', id: 'collect', role: 'switch', checked: prefs.collectionEnabled, disabled: !admin });
    const rows = prefs.fields.map((f) => {
      const group = h('div', { class: 'segmented', role: 'radiogroup', 'aria-label': LABELS[f.field] },
        MODES.map(([m, label]) => {
          const id = `pref-${f.field}-${m}`;
          return [h('input', { type: 'radio', name: `pref-${f.field}`, id, value: m, checked: f.mode === m, disabled: !admin }), h('label', { for: id }, label)];
        }));
      return h('tr', {}, h('th', { scope: 'row' }, LABELS[f.field] || f.field), h('td', {}, group));
    });
    const status = h('div', { 'data-testid': 'prefs-status' });
    const form = h('form', { 'aria-label': 'Collection preferences' },
      h('div', { class: 'check check-switch' }, enabled, h('label', { for: 'collect' }, h('strong', {}, 'Collect customer data'), h('span', { class: 'hint' }, 'Off: no name, email or phone is collected, stored or shown.'))),
      h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'Collection'))), h('tbody', {}, rows))),
      h('p', { class: 'hint' }, 'Hidden: not collected, stored or displayed. Values already stored for a field made hidden are purged, in Lethe and in the connected stores.'),
      status,
      admin ? h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Confirm')) : null);
    // Any new choice makes an earlier message stale.
    form.addEventListener('change', () => replace(status));
    const reset = () => {
      enabled.checked = prefs.collectionEnabled;
      for (const f of prefs.fields) form.querySelector(`#pref-${f.field}-${f.mode}`).checked = true;
    };
    const chosen = () => prefs.fields.map((f) => ({ field: f.field, mode: form.querySelector(`input[name="pref-${f.field}"]:checked`).value }));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const fields = chosen();
      const changes = fields.filter((f, i) => f.mode !== prefs.fields[i].mode);
      if (!changes.length && enabled.checked === prefs.collectionEnabled) { replace(status, banner('info', 'Nothing has changed.')); return; }
      const newlyHidden = changes.filter((f) => f.mode === 'HIDDEN');
      replace(status);
      let purge = null;
      if (newlyHidden.length) {
        try { purge = await purgeCount(fields, newlyHidden); } catch (err) { replace(status, errorBanner(err)); return; }
      }
      const ok = await confirmDialog({
        title: 'Apply the collection preferences?',
        danger: newlyHidden.length > 0,
        confirm: 'Confirm',
        body: [
          h('ul', {}, changes.map((f) => h('li', {}, `${LABELS[f.field]}: ${f.mode.toLowerCase()}`)),
            enabled.checked !== prefs.collectionEnabled ? h('li', {}, enabled.checked ? 'Collection enabled' : 'Collection disabled') : null),
          h('p', {}, 'They apply at once, to every customer.'),
          newlyHidden.length ? h('p', { 'data-testid': 'purge-count' }, h('strong', {},
            `${fmtNum(purge)} stored value${purge === 1 ? '' : 's'} will be purged and cannot be restored.`)) : null,
        ],
      });
      if (!ok) {
        reset();
        replace(status, banner('info', 'Cancelled: nothing was saved. The choices are back as they were.'));
        return;
      }
      try {
        // The dialog above is the confirmation the API asks for before
        // it purges the values of fields made hidden.
        const r = await gql('mutation UpdateFieldPreferences($enabled: Boolean, $fields: [FieldPreferenceInput!], $confirm: Boolean) { updateFieldPreferences(collectionEnabled: $enabled, fields: $fields, confirm: $confirm) { collectionEnabled fields { field mode } } }',
          { enabled: enabled.checked, fields, confirm: newlyHidden.length > 0 }, 'UpdateFieldPreferences');
        renderPrefs(r.updateFieldPreferences);
        prefsBox.append(banner('success', 'Collection preferences saved.'));
      } catch (err) { replace(status, errorBanner(err)); }
    });
    replace(prefsBox, h('h2', { id: 'prefs-title' }, 'Collection preferences'), form);
  }

  function renderStorage(list) {
    const status = h('div');
    const rows = list.map((s) => {
      const id = `store-${s.field}`;
      return h('tr', {}, h('th', { scope: 'row' }, h('label', { for: id, class: 'mono' }, s.field)),
        h('td', {}, h('input', {
          type: 'text', id: `label-${s.field}`, name: `label-${s.field}`, value: s.label || '', maxlength: 40, autocomplete: 'off',
          placeholder: 'No label', disabled: !admin, 'aria-label': `Label of ${s.field}`,
        })),
        h('td', {}, h('select', { id, name: s.field, disabled: !admin }, h('option', { value: 'yes', selected: s.storeInStatDatabase }, 'Yes'), h('option', { value: 'no', selected: !s.storeInStatDatabase }, 'No'))));
    });
    const form = h('form', { 'aria-label': 'Custom-field storage' },
      h('p', { class: 'hint' }, 'A label names a custom visit field for people (custom1 "Notes"); customer pages show it. Whether each field is stored in the statistics database when the visit ends: visits already started keep the settings in force when they started.'),
      h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'Label'), h('th', { scope: 'col' }, 'Store in statistics database'))), h('tbody', {}, rows))),
      status,
      admin ? h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save custom fields')) : null);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const input = list.map((s) => ({ field: s.field, storeInStatDatabase: form.querySelector(`#store-${s.field}`).value === 'yes' }));
      const labels = list.map((s) => ({ field: s.field, label: form.querySelector(`#label-${s.field}`).value.trim() }));
      try {
        // One request: the storage, then the labels (mutations run in order).
        const r = await gql(`mutation UpdateCustomFields($input: [CustomFieldStorageInput!]!, $labels: [CustomFieldLabelInput!]!) {
          updateCustomFieldStorage(input: $input) { field }
          updateCustomFieldLabels(input: $labels) { field storeInStatDatabase label } }`, { input, labels }, 'UpdateCustomFields');
        renderStorage(r.updateCustomFieldLabels);
        storageBox.append(banner('success', 'Custom fields saved.'));
      } catch (err) { replace(status, errorBanner(err)); }
    });
    replace(storageBox, h('h2', { id: 'storage-title' }, 'Custom-field storage'), form);
  }
}

// purgeCount asks the API how many stored values making these fields hidden
// would purge (a plain query: it works with introspection off, the
// default), summed over the newly hidden fields.
async function purgeCount(fields, newlyHidden) {
  const r = await gql('query FieldPreferencesPreview($fields: [FieldPreferenceInput!]!) { fieldPreferencesPreview(fields: $fields) { field mode storedValues } }',
    { fields }, 'FieldPreferencesPreview');
  const hidden = new Set(newlyHidden.map((f) => f.field));
  return r.fieldPreferencesPreview.filter((c) => hidden.has(c.field)).reduce((n, c) => n + c.storedValues, 0);
}
