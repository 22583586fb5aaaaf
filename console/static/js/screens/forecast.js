// Forecast: how many customers Lethe will relinquish each week over the next
// year, by rule, from the stored deletion times.
import { gql } from '../api.js';
import { h, replace, errorBanner, pageHeader, loading } from '../ui.js';
import { forecastChart, FORECAST_FIELDS } from '../chart.js';

export async function render(main) {
  const body = h('section', { class: 'card' }, loading());
  main.append(pageHeader('Forecast', 'Customers relinquished each week over the next year if nothing changes: erased by their retention policy, or anonymised by the data policy. New events push customers later; policy edits show their own forecast before saving.'), body);
  try {
    const d = await gql(`query Forecast($weeks: Int) { retentionForecast(weeks: $weeks) { ${FORECAST_FIELDS} } }`, { weeks: 52 }, 'Forecast');
    replace(body, forecastChart(d.retentionForecast));
  } catch (err) { replace(body, errorBanner(err)); }
}
