// The console's shell: sign-in, navigation by role, and the router. Each
// screen is a module exporting render(main, ctx); ctx carries the session
// (token name and role) and the params of the route.
import { gql, token, onUnauthenticated, ApiError } from './api.js';
import { h, replace, field, errorBanner, banner } from './ui.js';

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

onUnauthenticated((err) => signOut(err.explain()));

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
          h('a', { class: 'btn btn-quiet', href: '/', target: '_blank', rel: 'noopener' }, 'Playground'),
          h('button', { type: 'button', class: 'btn', onclick: () => signOut('You have signed out.') }, 'Sign out'))),
      nav,
      main));
  route();
}

let current = 0;

async function route() {
  if (!session) return;
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  let screen = screens.find((s) => s.path === parts[0] && can(s.role));
  if (!screen) {
    screen = screens[0];
    history.replaceState(null, '', `#/${screen.path}`);
  }
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
    await mod.render(main, { session, can, params: parts.slice(1), isCurrent: () => mine === current });
  } catch (err) {
    if (mine === current) replace(main, errorBanner(err));
  }
}

window.addEventListener('hashchange', route);

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
