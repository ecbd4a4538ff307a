/* The Usage tab: the summary by tier, type and model as charts, a table, and its CSV. */

import { api } from './api.js';
import { downloadCsv, fileZone, loading, settle, windowFields, windowParams, windowWords } from './controls.js';
import { $, clearErrors, el, showError } from './dom.js';
import { report } from './errors.js';
import { chartFill, formatSeconds, seriesLooks } from './format.js';
import { ensureChart } from './spend.js';
import { begin } from './state.js';

let shownParams = null;

export async function loadUsage() {
  const prefix = 'usage';
  const fresh = begin(prefix);
  clearErrors($('#panel-usage'));
  const params = windowParams(prefix);
  loading('usage', `usage, ${windowWords(prefix)}`);
  $('#usage-total').replaceChildren('…');
  $('#usage-csv').disabled = true;
  try {
    const data = await api('/usage/summary', { params });
    if (!fresh()) return;
    if (Array.isArray(data.errors) && data.errors.length) {
      showError('usage-error', `Some figures could not be computed: ${data.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
    }
    $('#usage-total').replaceChildren(el('span', { title: `${Number(data.total_usage).toLocaleString('en-US')} resource-seconds`, text: formatSeconds(data.total_usage) }));
    const rows = [];
    for (const [id, dimension, values] of [['usage-tier', 'tier', data.tier_usage], ['usage-type', 'type', data.type_usage], ['usage-model', 'model', data.model_usage]]) {
      const entries = Object.entries(values || {}).sort((a, b) => Number(b[1]) - Number(a[1]));
      const chart = ensureChart(id, {
        type: 'bar',
        data: { labels: [], datasets: [] },
        options: {
          indexAxis: 'y', responsive: true, maintainAspectRatio: false, animation: false,
          plugins: { legend: { display: false }, tooltip: { callbacks: { label: (item) => `${formatSeconds(item.raw)} (${Number(item.raw).toLocaleString('en-US')} s)` } } },
          scales: { x: { beginAtZero: true, title: { display: true, text: 'resource-seconds' } } },
        },
      });
      if (chart) {
        chart.data.labels = entries.map(([name]) => name);
        const looks = seriesLooks(entries.map(([name]) => name));
        chart.data.datasets = [{ label: dimension, data: entries.map(([, seconds]) => Number(seconds)), backgroundColor: entries.map(([name]) => chartFill(looks.get(name))), borderColor: '#1b1f24', borderWidth: 0.5 }];
        chart.update();
      }
      document.getElementById(id).setAttribute('aria-label', `Usage by ${dimension}: ${entries.map(([name, seconds]) => `${name} ${formatSeconds(seconds)}`).join(', ') || 'none'}`);
      for (const [name, seconds] of entries) rows.push(el('tr', {}, el('td', { text: dimension }), el('td', { text: name }), el('td', { class: 'num', title: `${seconds} s`, text: formatSeconds(seconds) })));
    }
    $('#usage-table tbody').replaceChildren(...rows);
    shownParams = params;
    $('#usage-csv').disabled = false;
    settle('usage', params, 'ready');
  } catch (error) {
    if (!fresh()) return;
    report(error, 'usage-error', windowFields(prefix), loadUsage, fresh);
    $('#usage-total').replaceChildren('–');
    $('#usage-table tbody').replaceChildren();
    shownParams = null;
    settle('usage', params, 'error');
  }
}

export function downloadUsageCsv() {
  if (!shownParams) return;
  const range = (shownParams.find(([name]) => name === 'range') || [])[1] || 'custom';
  downloadCsv('/usage/summary', shownParams, `usage_${range}_${fileZone()}.csv`, 'usage-error');
}
