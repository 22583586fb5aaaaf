// The console's shell: sign-in, navigation by role, and the router. Each
// screen is a module exporting render(main, ctx); ctx carries the session
// (token name and role) and the params of the route.
import { gql, token, onUnauthenticated, ApiError } from './api.js';
import { h, replace, field, errorBanner, banner, timeZone, confirmLeave } from './ui.js';

const ROLE_RANK = { VIEWER: 0, OPERATOR: 1, ADMIN: 2 };

const screens = [
  { path: 'policies', title: 'Retention policies', load: () => import('./screens/policies.js'), role: 'VIEWER' },
  { path: 'data-policy', title: 'Data policy', load: () => import('./screens/datapolicy.js'), role: 'VIEWER' },
  { path: 'customers', title: 'Handle customers', load: () => import('./screens/customers.js'), role: 'OPERATOR' },
  { path: 'forecast', title: 'Forecast', load: () => import('./screens/forecast.js'), role: 'VIEWER' },
  { path: 'runs', title: 'Runs', load: () => import('./screens/runs.js'), role: 'VIEWER' },
  { path: 'settings', title: 'Settings', load: () => import('./screens/settings.js'), role: 'VIEWER' },
  { path: 'connectors', title: 'Connectors', load: () => import('./screens/connectors.js'), role: 'VIEWER' },
  { path: 'audit', title: 'Audit log', load: () => import('./screens/audit.js'), role: 'ADMIN' },
];

let session = null;
const app = document.getElementById('app');

export const can = (role) => session && ROLE_RANK[session.role] >= ROLE_RANK[role];

function signOut(message) {
  token.clear();
  session = null;
  renderSignIn(message);
}

// Only a session that was working can end: a wrong token at sign-in is
// answered by the sign-in form itself, which keeps what was typed.
onUnauthenticated((err) => { if (session) signOut(err.explain()); });

function renderSignIn(message) {
  document.title = 'Sign in · Lethe';
  const input = h('input', { type: 'password', name: 'token', autocomplete: 'off', spellcheck: 'false', required: true, placeholder: 'lethe_…' });
  const f = field('API token', input, 'Create one with: lethe token create --name you --role viewer|operator|admin. It is kept for this tab only.');
  const status = h('div');
  const form = h('form', { class: 'card signin-card', 'aria-labelledby': 'signin-title' },
    h('div', { class: 'brand brand-large' }, logo(), h('span', {}, 'Lethe')),
    h('h1', { id: 'signin-title' }, 'Sign in to the console'),
    message ? banner('info', message) : null,
    f.el, status,
    h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const t = input.value.trim();
    if (!t) { f.setError('Paste an API token.'); return; }
    token.set(t);
    try {
      await loadSession();
      start();
    } catch (err) {
      token.clear();
      f.setError(err instanceof ApiError && err.code === 'UNAUTHENTICATED' ? 'This token is not valid or has been revoked.' : '');
      if (!(err instanceof ApiError && err.code === 'UNAUTHENTICATED')) replace(status, errorBanner(err));
      input.focus();
    }
  });
  replace(app, h('main', { class: 'signin' }, form));
  input.focus();
}

async function loadSession() {
  const data = await gql('query Session { session { name role } }', {}, 'Session');
  session = data.session;
}

function logo() {
  return h('img', { src: 'favicon.svg', alt: '', width: 28, height: 28 });
}

let nav;
let main;

function start() {
  const menuId = 'main-nav';
  const toggle = h('button', { type: 'button', class: 'btn nav-toggle', 'aria-controls': menuId, 'aria-expanded': 'false' }, 'Menu');
  nav = h('nav', { id: menuId, 'aria-label': 'Screens' },
    h('ul', {}, screens.filter((s) => can(s.role)).map((s) => h('li', {}, h('a', { href: `#/${s.path}`, dataset: { path: s.path } }, s.title)))));
  toggle.addEventListener('click', () => {
    const open = nav.classList.toggle('open');
    toggle.setAttribute('aria-expanded', String(open));
  });
  nav.addEventListener('click', (ev) => { if (ev.target.closest('a')) { nav.classList.remove('open'); toggle.setAttribute('aria-expanded', 'false'); } });
  main = h('main', { id: 'main', tabindex: '-1' });
  replace(app,
    h('a', { class: 'skip', href: '#main', onclick: (ev) => { ev.preventDefault(); main.focus(); } }, 'Skip to content'),
    h('div', { class: 'shell' },
      h('header', { class: 'topbar' },
        h('div', { class: 'brand' }, logo(), h('span', {}, 'Lethe'), h('span', { class: 'brand-sub' }, 'Data retention')),
        toggle,
        h('div', { class: 'who' },
          h('span', { class: 'who-name' }, session.name),
          h('span', { class: `role role-${session.role.toLowerCase()}`, 'data-role': session.role }, session.role.toLowerCase()),
          h('span', { class: 'tz', 'data-testid': 'time-zone', title: 'Every time in the console is shown in this time zone' }, `Times in ${timeZone}`),
          h('a', { class: 'btn btn-quiet', href: '/', onclick: openPlayground }, 'Playground'),
          h('button', { type: 'button', class: 'btn', onclick: () => signOut('You have signed out.') }, 'Sign out'))),
      nav,
      main));
  route();
}

// openPlayground opens the playground in a new tab that starts with this
// tab's session: a window opened by script (not noopener) gets a copy of
// the opener's sessionStorage, where the token is kept; the token never
// goes into a URL.
function openPlayground(ev) {
  ev.preventDefault();
  const w = window.open('/', '_blank');
  if (w) w.opener = null;
}

let current = 0;

// home is where a role starts: operators on Customers, their daily work.
const home = () => screens.find((s) => s.path === (session.role === 'OPERATOR' ? 'customers' : 'policies'));

// parseHash splits #/customers/cus_1?q=ann&page=2 into path parts and
// query parameters.
export function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

async function route() {
  if (!session) return;
  const { parts, query } = parseHash();
  let screen = screens.find((s) => s.path === parts[0] && can(s.role));
  let refused = null;
  if (!screen) {
    const wanted = screens.find((s) => s.path === parts[0]);
    // A deep link the role may not open says why, instead of silently
    // showing another screen.
    if (wanted) refused = `${wanted.title} needs the ${wanted.role.toLowerCase()} role or higher; you are signed in as ${session.name} (${session.role.toLowerCase()}). You were taken to ${home().title}.`;
    screen = home();
    history.replaceState(null, '', `#/${screen.path}`);
  }
  shownHash = location.hash;
  for (const a of nav.querySelectorAll('a')) {
    if (a.dataset.path === screen.path) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  document.title = `${screen.title} · Lethe`;
  const mine = ++current;
  replace(main, h('p', { class: 'loading' }, 'Loading…'));
  try {
    const mod = await screen.load();
    if (mine !== current) return;
    replace(main);
    if (refused) main.append(banner('warning', h('span', { 'data-testid': 'forbidden' }, refused)));
    await mod.render(main, { session, can, params: parts.slice(1), query, isCurrent: () => mine === current });
  } catch (err) {
    if (mine === current) replace(main, errorBanner(err));
  }
}

// Leaving a half-edited form asks first; staying puts the address back.
let shownHash = location.hash;
window.addEventListener('hashchange', () => {
  if (!confirmLeave()) { history.replaceState(null, '', shownHash); return; }
  shownHash = location.hash;
  route();
});

(async function boot() {
  if (!token.get()) { renderSignIn(); return; }
  try {
    await loadSession();
    start();
  } catch (err) {
    if (err instanceof ApiError && err.code === 'UNAUTHENTICATED') signOut(err.explain());
    else replace(app, h('main', { class: 'signin' }, errorBanner(err)));
  }
}());
