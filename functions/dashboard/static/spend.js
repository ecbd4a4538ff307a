/* The Spend tab: the breakdown as a stacked bar chart, its cards and tables, and its CSV. */

import { api } from './api.js';
import { downloadCsv, fileZone, loading, rememberApps, settle, windowFields, windowParams, windowWords } from './controls.js';
import { $, $$, clearErrors, el, showError } from './dom.js';
import { report } from './errors.js';
import { big, chartFill, cssFill, dollarsText, formatTime, money, OTHER_COLOUR, seriesLooks } from './format.js';
import { begin, state } from './state.js';

// At most this many series: beyond it the smallest share one "Other" series (a chart of 40
// stacked colours is unreadable; the palette has 8). Each series' colour comes from its name,
// never its rank (format.js, seriesLooks).
const MAX_SERIES = 8;

const LEGEND_CHARACTERS = 40;

/** A series' name for the legend: whole up to LEGEND_CHARACTERS, else its start and its end. */
export function legendText(name) {
  const text = String(name);
  if (text.length <= LEGEND_CHARACTERS) return text;
  const half = Math.floor((LEGEND_CHARACTERS - 1) / 2);
  return `${text.slice(0, half)}…${text.slice(text.length - half)}`;
}

export function ensureChart(id, config) {
  if (!window.Chart) return null;
  if (!state.charts[id]) state.charts[id] = new window.Chart(document.getElementById(id), config);
  return state.charts[id];
}

export async function loadSpend() {
  const prefix = 'spend';
  const fresh = begin(prefix);
  clearErrors($('#panel-spend'));
  $('#spend-note').hidden = true;
  const params = windowParams(prefix);
  const bucket = $('#spend-bucket').value;
  if (bucket) params.push(['bucket', bucket]);
  const groupBy = $('#spend-group').value;
  params.push(['group_by', groupBy]);
  if ($('#spend-range').value === 'custom' && !params.some(([name]) => name === 'start')) {
    showError('spend-start-error', 'Choose a start date.');
    settle('spend', params, 'error');
    return;
  }
  loading('spend', `spend, ${windowWords(prefix)}`);
  // The cards belong to the window asked for: none of the previous window's figures stays.
  for (const card of ['#spend-total', '#spend-refunded', '#spend-trend', '#spend-period']) $(card).replaceChildren('…');
  $('#spend-csv').disabled = true;
  $('#spend-refresh').setAttribute('aria-busy', 'true');
  try {
    const data = await api('/usage/breakdown', { params });
    if (!fresh()) return;
    const notes = [];
    if (data.tz !== state.tz) notes.push(`The API answered in time zone ${data.tz}.`);
    const view = spendView(data, groupBy, params);
    if (Array.isArray(data.errors) && data.errors.length) {
      notes.push(`Some figures could not be computed: ${data.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}.`);
    }
    if (notes.length) {
      $('#spend-note').textContent = notes.join(' ');
      $('#spend-note').hidden = false;
    }
    state.spend = view;
    rememberApps(data.models || []);
    renderSpend(view);
    settle('spend', params, 'ready');
  } catch (error) {
    if (!fresh()) return;
    report(error, 'spend-error', windowFields(prefix), loadSpend, fresh);
    state.spend = null;
    renderSpend(null);
    settle('spend', params, 'error');
  } finally {
    if (fresh()) $('#spend-refresh').removeAttribute('aria-busy');
  }
}

/** What the Spend tab shows, computed once: the chart, the tables and the CSV all read it. */
function spendView(data, groupBy, params) {
  const grouped = groupBy !== 'app';
  const key = grouped ? 'per_group' : 'per_app';
  const totals = new Map();
  for (const bucket of data.timeseries) {
    for (const [group, cost] of Object.entries(bucket[key] || {})) {
      totals.set(group, (totals.get(group) || 0n) + big(cost));
    }
  }
  const { shown, merged, looks } = shownOf(totals);
  const series = shown.map((group) => ({ name: group, members: [group], look: looks.get(group) }));
  if (merged.length) {
    series.push({ name: `Other (${merged.length} ${grouped ? 'groups' : 'apps'})`, members: merged, look: OTHER_LOOK });
  }
  // Apps keep their colours in the top-apps table whatever the chart is grouped by.
  let appLooks = looks;
  if (grouped) {
    const appTotals = new Map((data.per_model || []).map((row) => [row.app_endpoint, big(row.cost)]));
    appLooks = shownOf(appTotals).looks;
  }
  const { tz } = data;
  const buckets = data.timeseries.map((bucket) => ({
    date: bucket.date,
    label: formatTime(bucket.date, { compact: true, tz }),
    values: series.map((s) => s.members.reduce((sum, member) => sum + big((bucket[key] || {})[member] || 0), 0n)),
  }));
  return { data, params, groupBy, series, buckets, tz, looks, appLooks };
}

const OTHER_LOOK = { colour: OTHER_COLOUR, round: 0 };

/** The names a chart shows, largest first: all of them up to MAX_SERIES, else the MAX_SERIES − 1
 * largest and "Other"; with the look each shown name has in that chart (format.js). */
function shownOf(totals) {
  const ranked = Array.from(totals.keys()).sort((a, b) => {
    const diff = totals.get(b) - totals.get(a);
    return diff > 0n ? 1 : diff < 0n ? -1 : a < b ? -1 : a > b ? 1 : 0;
  });
  const room = ranked.length > MAX_SERIES ? MAX_SERIES - 1 : MAX_SERIES;
  const shown = ranked.slice(0, room);
  return { shown, merged: ranked.slice(room), looks: seriesLooks(shown) };
}

function renderSpend(view) {
  const chart = ensureChart('spend-chart', {
    type: 'bar',
    data: { labels: [], datasets: [] },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: 'nearest', intersect: true },
      scales: {
        x: { stacked: true, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
        y: { stacked: true, beginAtZero: true, title: { display: true, text: 'USD' }, ticks: { callback: (value) => `$${Number(value).toLocaleString('en-US', { maximumFractionDigits: 8 })}` } },
      },
      plugins: {
        // A legend entry is one line of canvas: a 257-character app ran off both edges, its
        // swatch with it. Long names are shortened in the middle here only; the tooltip and
        // the table below the chart give them whole.
        legend: { position: 'bottom', labels: { generateLabels: (chart) => window.Chart.defaults.plugins.legend.labels.generateLabels(chart).map((item) => ({ ...item, text: legendText(item.text) })) } },
        tooltip: {
          callbacks: {
            label: (item) => {
              const microcents = item.dataset.microcents[item.dataIndex];
              return `${item.dataset.label}: ${dollarsText(microcents)} (${big(microcents).toLocaleString('en-US')} µ¢)`;
            },
            footer: (items) => {
              if (!items.length) return '';
              const bucket = state.spend && state.spend.buckets[items[0].dataIndex];
              if (!bucket) return '';
              const sum = bucket.values.reduce((a, b) => a + b, 0n);
              return `Bucket total: ${dollarsText(sum)} (${sum.toLocaleString('en-US')} µ¢)`;
            },
          },
        },
      },
    },
  });
  const csv = $('#spend-csv');
  const cards = { total: $('#spend-total'), refunded: $('#spend-refunded'), trend: $('#spend-trend'), period: $('#spend-period') };
  if (!view) {
    if (chart) { chart.data.labels = []; chart.data.datasets = []; chart.update(); }
    for (const card of Object.values(cards)) card.replaceChildren('–');
    $('#top-apps tbody').replaceChildren();
    $('#groups-section').hidden = true;
    $('#spend-data-table').replaceChildren();
    csv.disabled = true;
    $('#spend-chart').setAttribute('aria-label', 'Spend chart: no data');
    return;
  }
  const { data } = view;
  if (chart) {
    chart.data.labels = view.buckets.map((bucket) => bucket.label);
    chart.data.datasets = view.series.map((series, index) => ({
      label: series.name,
      data: view.buckets.map((bucket) => Number(bucket.values[index]) / 1e8),
      microcents: view.buckets.map((bucket) => bucket.values[index].toString()),
      backgroundColor: chartFill(series.look),
      borderColor: '#1b1f24',
      borderWidth: 0.5,
    }));
    chart.update();
  }
  cards.total.replaceChildren(money(data.total_cost));
  cards.refunded.replaceChildren(money(data.refunded_cost));
  if (data.trend_percent === undefined || data.trend_percent === null) {
    cards.trend.replaceChildren(el('span', { title: 'No spend in the previous period of equal length', text: '–' }));
  } else {
    const trend = Number(data.trend_percent);
    cards.trend.replaceChildren(`${trend > 0 ? '▲ +' : trend < 0 ? '▼ ' : ''}${trend.toLocaleString('en-US', { maximumFractionDigits: 2 })} %`);
  }
  const bucketName = data.bucket ? ` · ${data.bucket} buckets` : '';
  cards.period.replaceChildren(
    el('span', { text: `${formatTime(data.period_start, { compact: true, tz: view.tz })} → ${formatTime(data.period_end, { compact: true, tz: view.tz })}` }),
    el('small', { text: ` ${view.tz}${bucketName}` }),
  );
  const groupWord = view.groupBy;
  $('#spend-chart').setAttribute('aria-label',
    `Stacked bar chart of spend by ${groupWord}: ${view.buckets.length} buckets, ${view.series.length} series, total ${data.total_cost === null ? 'beyond int64' : dollarsText(data.total_cost)}. The same data is in the table below the chart.`);

  $('#top-apps tbody').replaceChildren(...(data.per_model || []).map((row) => el('tr', {},
    el('td', {}, swatch(view.appLooks.get(row.app_endpoint) || OTHER_LOOK), row.app_endpoint),
    el('td', { class: 'num', text: Number(row.call_count).toLocaleString('en-US') }),
    el('td', { class: 'num' }, money(row.cost)))));
  if (!(data.per_model || []).length) {
    $('#top-apps tbody').replaceChildren(el('tr', {}, el('td', { colspan: 3, text: 'No spend in this window.' })));
  }
  const groups = view.groupBy !== 'app' && Array.isArray(data.per_group) ? data.per_group : null;
  $('#groups-section').hidden = !groups;
  if (groups) {
    $('#groups-heading').textContent = `By ${groupWord}`;
    $('#groups tbody').replaceChildren(...groups.map((row) => el('tr', {},
      el('td', {}, swatch(view.looks.get(row.group) || OTHER_LOOK), row.group),
      el('td', { class: 'num', text: Number(row.call_count).toLocaleString('en-US') }),
      el('td', { class: 'num' }, money(row.cost)))));
  }
  paintSwatches($('#panel-spend'));
  if ($('#spend-data').open) renderSpendTable(view);
  else $('#spend-data-table').replaceChildren();
  csv.disabled = false;
}

function swatch(look) {
  return el('span', { class: 'swatch', 'aria-hidden': 'true', 'data-colour': cssFill(look) });
}

/** Colours are set through the CSSOM (the policy allows no inline style attribute). */
function paintSwatches(root) {
  for (const element of $$('.swatch', root)) element.style.background = element.dataset.colour;
}

export function renderSpendTable(view) {
  if (!view) return;
  const head = el('tr', {}, el('th', { scope: 'col', text: 'Bucket' }),
    ...view.series.map((series) => el('th', { scope: 'col', class: 'num' }, swatch(series.look), series.name)),
    el('th', { scope: 'col', class: 'num', text: 'Total' }));
  const rows = view.buckets.map((bucket) => el('tr', {}, el('th', { scope: 'row', text: bucket.label }),
    ...bucket.values.map((value) => el('td', { class: 'num' }, money(value))),
    el('td', { class: 'num' }, money(bucket.values.reduce((a, b) => a + b, 0n)))));
  const table = el('table', { class: 'data', id: 'spend-table' }, el('thead', {}, head), el('tbody', {}, ...rows));
  $('#spend-data-table').replaceChildren(table);
  paintSwatches(table);
}

/** The server's own CSV of the breakdown query the chart shows (format=csv). */
export function spendCsv(view) {
  return api('/usage/breakdown', { params: [...view.params, ['format', 'csv']], accept: 'text/csv' });
}

export function downloadSpendCsv() {
  const view = state.spend;
  if (!view) return;
  const part = (name) => ((view.params.find(([key]) => key === name) || [])[1] || '');
  const window = part('range') || `${part('start')}_${part('end')}`;
  downloadCsv('/usage/breakdown', view.params, `spend_${window}_${view.groupBy}_${fileZone()}.csv`, 'spend-error');
}
