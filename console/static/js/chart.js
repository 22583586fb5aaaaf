// The forecast chart: stacked weekly bars (erase, anonymise) drawn as SVG,
// with the same numbers in a table for screen readers and keyboard users.
import { h, fmtDay, fmtNum, table } from './ui.js';

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

export function totals(forecast) {
  let erase = 0; let anonymise = 0;
  for (const w of forecast.weeks) { erase += w.erase; anonymise += w.anonymise; }
  return { erase, anonymise };
}

// forecastChart draws forecast; compare (optional) is the current forecast
// drawn as an outline behind it, so a preview shows what a change moves.
export function forecastChart(forecast, { title = 'Customers relinquished per week', compare } = {}) {
  const weeks = forecast.weeks;
  const W = 820; const H = 260; const left = 48; const bottom = 28; const top = 12;
  const plotW = W - left - 8; const plotH = H - bottom - top;
  const max = Math.max(1, ...weeks.map((w) => w.erase + w.anonymise), ...(compare ? compare.weeks.map((w) => w.erase + w.anonymise) : []));
  const step = plotW / weeks.length;
  const bw = Math.max(2, step * 0.72);
  const y = (v) => top + plotH - (v / max) * plotH;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': `${title}: bar chart of ${weeks.length} weeks` });
  // Grid lines at round numbers.
  const ticks = niceTicks(max);
  for (const t of ticks) {
    svg.append(s('line', { x1: left, x2: W - 8, y1: y(t), y2: y(t), class: 'grid' }));
    svg.append(s('text', { x: left - 6, y: y(t) + 4, class: 'axis', 'text-anchor': 'end' }, fmtNum(t)));
  }
  weeks.forEach((w, i) => {
    const x = left + i * step + (step - bw) / 2;
    if (compare && compare.weeks[i]) {
      const c = compare.weeks[i].erase + compare.weeks[i].anonymise;
      if (c > 0) svg.append(s('rect', { x: x - 1, y: y(c), width: bw + 2, height: y(0) - y(c), class: 'bar-compare' }));
    }
    const g = s('g', {}, s('title', {}, `Week of ${fmtDay(w.start)}: ${fmtNum(w.erase)} erased, ${fmtNum(w.anonymise)} anonymised`));
    if (w.erase > 0) g.append(s('rect', { x, y: y(w.erase), width: bw, height: y(0) - y(w.erase), class: 'bar-erase' }));
    if (w.anonymise > 0) g.append(s('rect', { x, y: y(w.erase + w.anonymise), width: bw, height: y(w.erase) - y(w.erase + w.anonymise), class: 'bar-anonymise' }));
    svg.append(g);
    if (i % 13 === 0) svg.append(s('text', { x: x + bw / 2, y: H - 8, class: 'axis', 'text-anchor': 'middle' }, fmtDay(w.start)));
  });
  svg.append(s('line', { x1: left, x2: W - 8, y1: y(0), y2: y(0), class: 'baseline' }));

  const t = totals(forecast);
  const rows = weeks.filter((w) => w.erase + w.anonymise > 0).map((w) => [fmtDay(w.start), fmtNum(w.erase), fmtNum(w.anonymise)]);
  return h('figure', { class: 'forecast' },
    h('figcaption', {},
      h('strong', {}, title),
      h('span', { class: 'legend' },
        h('span', { class: 'key key-erase' }), 'Erase by retention policy',
        h('span', { class: 'key key-anonymise' }), 'Anonymise by data policy',
        compare ? [h('span', { class: 'key key-compare' }), 'Today'] : null)),
    h('p', { class: 'forecast-summary', 'data-testid': 'forecast-summary' },
      `${fmtNum(t.erase + t.anonymise)} customers over ${weeks.length} weeks: ${fmtNum(t.erase)} erased, ${fmtNum(t.anonymise)} anonymised`,
      forecast.overdue.erase + forecast.overdue.anonymise > 0 ? ` · ${fmtNum(forecast.overdue.erase + forecast.overdue.anonymise)} already due at the next sweep` : ''),
    svg,
    h('details', {}, h('summary', {}, 'Show as a table'), table(['Week of', 'Erased', 'Anonymised'], rows, { empty: 'No customer is due in this period.' })));
}

function niceTicks(max) {
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((v) => v >= raw) || raw;
  const out = [];
  for (let v = 0; v <= max; v += Math.max(1, Math.round(step))) out.push(v);
  return out;
}

export const FORECAST_FIELDS = 'from overdue { erase anonymise } weeks { start erase anonymise }';
