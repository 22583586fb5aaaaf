// Connectors: every store outside Lethe, with its health and version.
import { gql } from '../api.js';
import { h, replace, errorBanner, table, pageHeader, loading } from '../ui.js';

export async function render(main) {
  const body = h('div', {}, loading());
  main.append(pageHeader('Connectors', 'The stores outside Lethe that hold customer data, reached through connector plugins.',
    h('button', { type: 'button', class: 'btn', onclick: () => load() }, 'Refresh')), body);
  async function load() {
    try {
      const { connectors } = await gql('query Connectors { connectors { name version categories healthy resurrected canaryWarning } }', {}, 'Connectors');
      replace(body, table(['Connector', 'Version', 'Data categories', 'Health'], connectors.map((c) => [
        h('span', { class: 'mono' }, c.name), c.version, c.categories.map((x) => h('span', { class: 'tag' }, x)),
        [h('span', { class: c.healthy ? 'health health-ok' : 'health health-bad' }, c.healthy ? 'healthy' : 'unavailable'),
          // The erasure ledger's guards (docs/operations-backup.md): one line each, only when they found something.
          c.canaryWarning && h('div', { class: 'health health-bad' }, 'Canary: ' + c.canaryWarning),
          c.resurrected > 0 && h('div', {}, `${c.resurrected} erased customers found again and erased again`)]]), { empty: 'No connector is configured.' }));
    } catch (err) { replace(body, errorBanner(err)); }
  }
  await load();
}
