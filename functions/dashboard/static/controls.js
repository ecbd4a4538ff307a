/* Controls every data tab shares: the time zone (one choice for the whole page), the apps
 * picker, the window, the visible loading state, and the CSV download from the server. */

import { api } from './api.js';
import { $, $$, el, showError } from './dom.js';
import { report } from './errors.js';
import { rules } from './rules.js';
import { state, ZONE_STORAGE } from './state.js';

const RANGE_LABELS = { '1h': 'Last hour', '1d': 'Last day', '7d': 'Last 7 days', '30d': 'Last 30 days', '90d': 'Last 90 days' };

/** A range's name as people read it: "7d" → "Last 7 days" (a name the page does not know yet
 * still reads as "Last 7d"). */
export function rangeLabel(range) {
  return RANGE_LABELS[range] || `Last ${range}`;
}

/** The window pickers' options, from the server's ranges; `custom` adds dates. */
export function fillRanges() {
  for (const select of $$('select[data-ranges]')) {
    const chosen = select.dataset.ranges;
    const options = rules.ranges.map((range) => el('option', { value: range, text: rangeLabel(range), selected: range === chosen }));
    if (select.dataset.custom !== 'no') options.push(el('option', { value: 'custom', text: 'Dates…' }));
    select.replaceChildren(...options);
    if (!rules.ranges.includes(chosen)) select.value = rules.ranges[rules.ranges.length - 1];
  }
  for (const select of $$('select[data-buckets]')) {
    const names = { '1m': 'Minute', '1h': 'Hour', '1d': 'Day' };
    select.replaceChildren(el('option', { value: '', text: 'Automatic', selected: true }),
      ...rules.buckets.map((bucket) => el('option', { value: bucket, text: names[bucket] || bucket })));
  }
  const groups = $('#spend-group');
  if (groups) {
    // The server's groupings, its default (the first) chosen; the page's words where it has them.
    const words = { app: 'App', fee: 'Fee', tier: 'Tier' };
    groups.replaceChildren(...rules.spend_groups.map((group, index) => el('option', { value: group, text: words[group] || group, selected: index === 0 })));
  }
  const statuses = $('#tasks-status');
  if (statuses) {
    statuses.replaceChildren(el('option', { value: '', text: 'Any', selected: true }),
      ...rules.task_statuses.map((status) => el('option', { value: status, text: status.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()) })));
  }
}

/** Every time-zone picker lists the zones the server takes; one choice holds for every tab. */
export function fillTimeZones() {
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const names = ['UTC', ...rules.time_zones.filter((zone) => zone !== 'UTC')];
  if (!names.includes(state.tz)) state.tz = 'UTC';
  for (const select of $$('.tz-select')) {
    select.replaceChildren(...names.map((zone) => el('option', { value: zone, text: zone === browserZone && zone !== 'UTC' ? `${zone} (this browser)` : zone })));
    select.value = state.tz;
  }
  for (const select of $$('.tz-list')) {
    select.replaceChildren(...names.map((zone) => el('option', { value: zone, text: zone })));
    select.value = 'UTC';
  }
  for (const name of $$('.zone-name')) name.textContent = state.tz;
}

/** The zone chosen on any tab becomes the page's zone: every picker shows it, every time is
 * written in it, and each tab loads again in it when next shown. */
export function chooseZone(zone) {
  state.tz = zone;
  sessionStorage.setItem(ZONE_STORAGE, zone);
  for (const select of $$('.tz-select')) select.value = zone;
  for (const name of $$('.zone-name')) name.textContent = zone;
  state.loaded = {};
}

export function rememberApps(apps) {
  let added = false;
  for (const app of apps) {
    if (app && !state.apps.has(app)) {
      state.apps.add(app);
      added = true;
    }
  }
  if (!added) return;
  const sorted = Array.from(state.apps).sort();
  for (const select of $$('.app-filter')) {
    const chosen = new Set(Array.from(select.selectedOptions, (option) => option.value));
    select.replaceChildren(...sorted.map((app) => el('option', { value: app, text: app, selected: chosen.has(app) })));
    // Whole rows only: as many as there are apps, up to six, then it scrolls.
    select.size = Math.max(2, Math.min(sorted.length, 6));
  }
  $('#known-apps').replaceChildren(...sorted.map((app) => el('option', { value: app })));
}

function nextDay(date) {
  const [year, month, day] = date.split('-').map(Number);
  return new Date(Date.UTC(year, month - 1, day + 1)).toISOString().slice(0, 10);
}

/** The window of a section's controls as query parameters (docs/api.md time windows). */
export function windowParams(prefix) {
  const params = [];
  const range = $(`#${prefix}-range`).value;
  if (range === 'custom') {
    const start = $(`#${prefix}-start`).value;
    const end = $(`#${prefix}-end`).value;
    if (start) params.push(['start', start]);
    if (end) params.push(['end', nextDay(end)]);
  } else {
    params.push(['range', range]);
  }
  params.push(['tz', state.tz]);
  const apps = $(`#${prefix}-app`);
  if (apps) for (const option of apps.selectedOptions) params.push(['app', option.value]);
  return params;
}

/** API field names of a section's query → the error slot beside the control that sent it. */
export function windowFields(prefix) {
  return {
    range: `${prefix}-range-error`, start: `${prefix}-start-error`, end: `${prefix}-end-error`,
    tz: `${prefix}-tz-error`, app: `${prefix}-app-error`, bucket: `${prefix}-bucket-error`,
    group_by: `${prefix}-group-error`, status: `${prefix}-status-error`,
    limit: `${prefix}-limit-error`, cursor: `${prefix}-error`,
  };
}

export function toggleCustom(prefix) {
  const custom = $(`#${prefix}-range`).value === 'custom';
  for (const field of $$(`[data-custom="${prefix}"]`)) field.hidden = !custom;
  if (custom && !$(`#${prefix}-start`).value) {
    const today = new Date();
    const weekAgo = new Date(today.getTime() - 6 * 86400000);
    $(`#${prefix}-start`).value = weekAgo.toISOString().slice(0, 10);
    $(`#${prefix}-end`).value = today.toISOString().slice(0, 10);
  }
}

/** A panel starts loading: busy for assistive tech, and a visible "Loading …" line; what it
 * showed is dimmed (data-loading) until the answer replaces it. */
export function loading(panel, what) {
  const element = document.getElementById(`panel-${panel}`);
  element.setAttribute('aria-busy', 'true');
  element.dataset.loading = 'true';
  const line = document.getElementById(`${panel}-loading`);
  if (line) {
    line.textContent = `Loading ${what}…`;
    line.hidden = false;
  }
}

/** Marks a panel as drawn from the answer to a query (tests and screen readers wait on it). */
export function settle(panel, params, outcome) {
  const element = document.getElementById(`panel-${panel}`);
  element.dataset.query = new URLSearchParams(params).toString();
  element.dataset.state = outcome;
  element.removeAttribute('aria-busy');
  delete element.dataset.loading;
  const line = document.getElementById(`${panel}-loading`);
  if (line) line.hidden = true;
}

/** What a window's controls ask for, in words ("Last 7 days", "2026-11-01 to 2026-11-07"). */
export function windowWords(prefix) {
  const range = $(`#${prefix}-range`).value;
  if (range !== 'custom') return rangeLabel(range).toLowerCase();
  return `${$(`#${prefix}-start`).value || '…'} to ${$(`#${prefix}-end`).value || '…'}`;
}

/** Downloads the server's own CSV of a query (format=csv): the file is what the API gives. */
export async function downloadCsv(path, params, fileName, errorSlot) {
  let text;
  try {
    text = await api(path, { params: [...params, ['format', 'csv']], accept: 'text/csv' });
  } catch (error) {
    report(error, errorSlot, {}, () => downloadCsv(path, params, fileName, errorSlot));
    return;
  }
  showError(errorSlot, '');
  const blob = new Blob([text], { type: 'text/csv;charset=utf-8' });
  const link = el('a', { href: URL.createObjectURL(blob), download: fileName });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

export function fileZone() {
  return state.tz.replace(/\//g, '-');
}
