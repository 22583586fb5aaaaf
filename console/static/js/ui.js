// Small DOM helpers. Text is always set as text (never parsed as HTML), so
// data from the server cannot become markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;
export const nextId = (prefix) => `${prefix}-${++uid}`;

// field is a labelled control with a place for its error beside it.
export function field(label, control, hint) {
  const id = control.id || nextId('f');
  control.id = id;
  const err = h('p', { class: 'field-error', id: `${id}-error`, role: 'alert' });
  control.setAttribute('aria-describedby', `${id}-error`);
  return {
    el: h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('p', { class: 'hint' }, hint) : null, err),
    control,
    setError(msg) {
      err.textContent = msg || '';
      control.toggleAttribute('aria-invalid', !!msg);
    },
  };
}

export function banner(kind, ...children) {
  return h('div', { class: `banner banner-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children);
}

export function errorBanner(err) {
  return banner('error', localize(err && err.explain ? err.explain() : String(err)));
}

export function loading(text = 'Loading…') {
  return h('p', { class: 'loading', role: 'status' }, text);
}

// Times are shown in the browser's time zone, always with the zone's
// abbreviation or offset, so that nobody reads a UTC time as local.
export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
const dateFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' });
const dayFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
export const fmtTime = (t) => (t ? dateFmt.format(new Date(t)) : '—');
export const fmtDay = (t) => (t ? dayFmt.format(new Date(t)) : '—');

// A date input's value (YYYY-MM-DD) means that day in the browser's time
// zone: dayStart is its local midnight, dayEnd its last second, both as
// the instant the API expects (RFC 3339, UTC).
function localDay(value, h, m, s) {
  const [y, mo, d] = value.split('-').map(Number);
  return new Date(y, mo - 1, d, h, m, s).toISOString();
}
export const dayStart = (value) => (value ? localDay(value, 0, 0, 0) : null);
export const dayEnd = (value) => (value ? localDay(value, 23, 59, 59) : null);

// localize rewrites the RFC 3339 times inside a server's sentence ("Why",
// refusals, audit details) into the browser's time zone.
const RFC3339 = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g;
export const localize = (text) => (text ? String(text).replace(RFC3339, (t) => fmtTime(t)) : text);
export const fmtNum = (n) => new Intl.NumberFormat().format(n);

// A header is a column's name, or { label, sort, onSort } for a column the
// list can be ordered by: sort is 'ascending' or 'descending' for the
// column the list is ordered by now (its aria-sort), else null; onSort is
// called when its button is pressed.
export function table(headers, rows, { caption, empty = 'Nothing to show.' } = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  const label = (t) => (typeof t === 'string' ? t : t && t.label);
  const body = h('tbody', {}, rows.map((r) => (r instanceof Node ? r : h('tr', {}, r.map((c) => h('td', {}, c))))));
  // Each cell carries its column's name: on a phone, rows become cards
  // that label their cells (see app.css).
  for (const tr of body.rows) [...tr.cells].forEach((cell, i) => { if (headers[i]) cell.dataset.label = label(headers[i]); });
  const th = (t) => {
    if (typeof t === 'string') return h('th', { scope: 'col' }, t);
    const arrow = t.sort === 'ascending' ? ' ▲' : t.sort === 'descending' ? ' ▼' : '';
    return h('th', { scope: 'col', 'aria-sort': t.sort || null },
      h('button', { type: 'button', class: 'sort', onclick: t.onSort,
        title: `Sort by ${t.label.toLowerCase()}${t.sort === 'ascending' ? ', descending' : ''}` }, t.label, h('span', { 'aria-hidden': 'true' }, arrow)));
  };
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'cards' },
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, headers.map(th))),
      body));
}

// confirmDialog asks before something irreversible; resolves true on
// confirm. body may hold nodes (a preview count, a warning). typeToConfirm,
// when set, is a word the person must type before Confirm is enabled.
export function confirmDialog({ title, body, confirm = 'Confirm', danger = false, typeToConfirm = null }) {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'button', class: danger ? 'btn btn-danger' : 'btn btn-primary', 'data-confirm': '', disabled: !!typeToConfirm, onclick: () => dlg.close('ok') }, confirm);
    let typed = null;
    if (typeToConfirm) {
      const input = h('input', { type: 'text', name: 'confirmName', autocomplete: 'off', spellcheck: 'false' });
      input.addEventListener('input', () => { ok.disabled = input.value.trim() !== typeToConfirm; });
      typed = field(`Type ${typeToConfirm} to confirm`, input).el;
    }
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': 'dlg-title' },
      h('h2', { id: 'dlg-title' }, title),
      h('div', { class: 'dialog-body' }, body),
      typed,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => dlg.close('cancel') }, 'Cancel'),
        ok));
    dlg.addEventListener('close', () => { dlg.remove(); resolve(dlg.returnValue === 'ok'); });
    document.body.append(dlg);
    dlg.showModal();
    if (typed) typed.querySelector('input').focus();
  });
}

export function debounce(fn, ms) {
  let t;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}

export function pageHeader(title, lead, ...actions) {
  return h('header', { class: 'page-header' },
    h('div', {}, h('h1', {}, title), lead ? h('p', { class: 'lead' }, lead) : null),
    actions.length ? h('div', { class: 'actions' }, actions) : null);
}

export function readOnlyNote(text) {
  return banner('info', text);
}

// busy runs fn with button disabled and spinning, so that a second click
// cannot submit twice; it returns fn's result.
export async function busy(button, fn) {
  if (!button) return fn();
  if (button.disabled) return undefined;
  button.disabled = true;
  button.classList.add('busy');
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.classList.remove('busy');
    button.removeAttribute('aria-busy');
  }
}

// Unsaved edits: a form marks itself dirty; leaving the page, or the
// screen through the console's navigation, asks first.
let dirty = null;
export function setDirty(what) { dirty = what || null; }
export function confirmLeave() {
  if (!dirty) return true;
  // eslint-disable-next-line no-alert
  const ok = window.confirm(`${dirty} has unsaved changes. Leave without saving?`);
  if (ok) dirty = null;
  return ok;
}
window.addEventListener('beforeunload', (ev) => { if (dirty) { ev.preventDefault(); ev.returnValue = ''; } });
