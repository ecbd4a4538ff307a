/* The Pricing tab: an app's draft in an editor with a live preview, save, publish now or at a
 * date-time in the chosen zone, the scheduled versions (listed, cancellable), and the backtest
 * over a chosen window. What the key may do is what GET /keys/current said (access.js): the
 * actions it cannot perform are hidden, and the page says why in plain words. */

import { grants, pricingWrite } from './access.js';
import { ApiError, api } from './api.js';
import { loading, rangeLabel, rememberApps, settle } from './controls.js';
import { $, $$, clearErrors, el, scrollTable, showError } from './dom.js';
import { report } from './errors.js';
import { money, time, zonedToUtc } from './format.js';
import { feeLabel, rules } from './rules.js';
import { begin, state } from './state.js';

// The formulas the editor shows: each fee component's (from the server's rules), then the
// pricing's description.
const FORMULAS = [
  ...rules.fee_components.map((component) => [component.expression, feeLabel(component), `Empty: the default. ${component.description}`]),
  ['description', 'Description', 'Plain text, or a CEL string expression starting with "'],
];
const SAMPLE_USAGE = {
  output_meta: {
    inputs: [{ type: 'text', tokens: 1200 }],
    outputs: [{ type: 'image', width: 1024, height: 1024, count: 2 }],
  },
  resources: [{ name: 'gpu0', type: 'gpu', model: 'llm-micro', meter: 'llm/micro' }],
  usage_seconds: 60,
  task_inputs: {},
};
// The actions a key needs apps:write on the app's namespace for (save, publish, schedule,
// backtest; each scheduled version's Cancel and each price's Remove are drawn with them).
const WRITE_ACTIONS = ['#pricing-save', '#pricing-publish', '#schedule-form', '#pricing-backtest', '#backtest-form', '#price-add'];

export function buildPricing() {
  const fieldset = $('#formulas');
  for (const [name, label, help] of FORMULAS) {
    const id = `f-${name}`;
    fieldset.append(el('div', { class: 'formula field wide' },
      el('label', { for: id, text: label }),
      el('textarea', { id, rows: name === 'description' ? 2 : 3, spellcheck: 'false', 'data-formula': name, 'aria-describedby': `${id}-help ${id}-error` }),
      el('p', { id: `${id}-help`, class: 'help', text: help }),
      el('p', { id: `${id}-error`, class: 'error', hidden: true })));
  }
  $('#backtest-range').replaceChildren(...rules.ranges.map((range) => el('option', { value: range, text: rangeLabel(range), selected: range === '7d' })));
}

function appPath([namespace, name]) {
  return `/apps/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/pricing`;
}

function pricingFields() {
  const fields = { prices: 'prices-error', namespace: 'pricing-app-error', name: 'pricing-app-error', upstream_pricing: 'f-upstream_pricing-error', effective_at: 'schedule-at-error' };
  for (const [name] of FORMULAS) {
    fields[name] = `f-${name}-error`;
    fields[`pricing.${name}`] = `f-${name}-error`;
  }
  fields['pricing.prices'] = 'prices-error';
  for (const name of ['output_meta', 'resources', 'usage_seconds', 'task_inputs', 'body']) fields[name] = 'sample-usage-error';
  for (const name of ['range', 'start', 'end', 'tz', 'limit']) fields[name] = 'backtest-range-error';
  return fields;
}

function splitApp(value) {
  const match = /^\s*([^/\s]+)\/([^/\s]+)\s*$/.exec(value || '');
  return match ? [match[1], match[2]] : null;
}

/** The app the tab opens by itself: the first of the key's own namespace. A team also spends on
 * apps of other namespaces, and one of those may have no published pricing (a 404): opening it
 * unasked greeted the tab with an error. With no app of its own the field stays empty (the
 * picker lists the rest). */
function firstOwnApp() {
  const own = `${state.access ? state.access.namespace : ''}/`;
  return Array.from(state.apps).sort().find((app) => app.startsWith(own)) || '';
}

export function loadPricingTab() {
  if (!$('#pricing-app').value) $('#pricing-app').value = firstOwnApp();
  if (!state.apps.size && grants('billing:read')) {
    // Learn the team's apps from its spend, so the picker has something to offer.
    api('/usage/breakdown', { params: [['range', rules.ranges[rules.ranges.length - 1]]] }).then((data) => {
      rememberApps(data.models || []);
      if (!$('#pricing-app').value && firstOwnApp()) {
        $('#pricing-app').value = firstOwnApp();
        openPricing();
      }
    }).catch(() => {});
  } else if ($('#pricing-app').value && !state.pricing.view) {
    openPricing();
  }
}

/** Everything that belonged to the app shown before: gone before another app opens. */
function clearAppResults() {
  $('#backtest-result').hidden = true;
  $('#backtest-body').replaceChildren();
  $('#pricing-action-status').textContent = '';
  $('#scheduled-list').replaceChildren();
  $('#scheduled-status').textContent = '';
  $('#publish-confirm').hidden = true;
  $('#pricing-readonly').hidden = true;
  $('#schedule-at').value = '';
  $('#schedule-utc').textContent = '';
}

export async function openPricing() {
  clearErrors($('#panel-pricing'));
  clearAppResults();
  const parts = splitApp($('#pricing-app').value);
  if (!parts) {
    showError('pricing-app-error', 'Write the app as namespace/name, e.g. team_local/flux-dev.');
    return;
  }
  const fresh = begin('pricing');
  // Nothing can be saved or published while another app loads: the editor shows one app only.
  Object.assign(state.pricing, { app: null, view: null });
  delete $('#panel-pricing').dataset.writable;
  $('#pricing-editor').hidden = true;
  loading('pricing', `the pricing of ${parts.join('/')}`);
  try {
    const view = await api(appPath(parts));
    if (!fresh()) return;
    state.pricing.app = parts;
    const access = pricingWrite(parts[0]);
    state.pricing.writable = access.writable;
    showPricing(view);
    showAccess(access);
    loadScheduled(parts, fresh);
    settle('pricing', [['app', parts.join('/')]], 'ready');
  } catch (error) {
    if (!fresh()) return;
    report(error, 'pricing-app-error', pricingFields(), openPricing, fresh);
    settle('pricing', [['app', parts.join('/')]], 'error');
  }
}

function showPricing(view) {
  const pricing = state.pricing;
  pricing.view = view;
  pricing.removed = new Set();
  const source = (view.draft && view.draft.pricing) || (view.live && view.live.pricing) || {};
  const versions = $('#pricing-versions');
  versions.replaceChildren(`${view.app}: `);
  if (view.live) versions.append(`Live: version ${view.live.version}, published `, time(view.live.published_at));
  else versions.append('Live: none published');
  versions.append(' · ');
  if (view.draft) versions.append(`Draft: revision ${view.draft.revision}, saved `, time(view.draft.updated_at));
  else versions.append('Draft: none (editing starts from the live pricing)');
  $('#prices-table tbody').replaceChildren();
  for (const [name, value] of Object.entries(source.prices || {})) addPriceRow(name, value);
  for (const [name] of FORMULAS) $(`#f-${name}`).value = source[name] || '';
  $('#f-upstream_pricing').value = source.upstream_pricing || '';
  if (!$('#sample-usage').value) $('#sample-usage').value = JSON.stringify(SAMPLE_USAGE, null, 2);
  $('#pricing-editor').hidden = false;
  $('#publish-confirm').hidden = true;
  if (Array.isArray(view.scheduled)) showScheduled(view.scheduled);
  schedulePreview(0);
}

export function addPriceRow(name = '', value = '') {
  const index = $$('#prices-table tbody tr').length;
  const nameId = `price-name-${index}-${Date.now()}`;
  const row = el('tr', {},
    el('td', { 'data-label': 'Name' }, el('input', { type: 'text', class: 'price-name', value: name, 'aria-label': 'Price name', id: nameId, spellcheck: 'false', maxlength: String(rules.max_price_name), 'data-original': name })),
    el('td', { 'data-label': 'Microcents' }, el('input', { type: 'text', inputmode: 'numeric', class: 'price-value', value: String(value), 'aria-label': `Microcents for ${name || 'new price'}` })),
    el('td', { 'data-label': 'Dollars', class: 'price-dollars' }),
    el('td', { class: 'price-actions' }, el('button', { type: 'button', class: 'price-remove', 'aria-label': `Remove price ${name || '(new)'}`, text: 'Remove', hidden: !state.pricing.writable })));
  $('#prices-table tbody').append(row);
  updatePriceDollars(row);
  return row;
}

export function updatePriceDollars(row) {
  const value = $('.price-value', row).value.trim();
  const cell = $('.price-dollars', row);
  cell.replaceChildren(/^\d+$/.test(value) ? money(value) : el('span', { class: 'help', text: value ? 'not a whole number' : '' }));
}

/** The editor's pricing; problems in the prices table are reported beside it. */
function editorPricing() {
  const prices = {};
  const problems = [];
  for (const row of $$('#prices-table tbody tr')) {
    const name = $('.price-name', row).value.trim();
    const value = $('.price-value', row).value.trim();
    if (!name && !value) continue;
    if (!name) problems.push('a price has no name');
    else if (!/^\d+$/.test(value)) problems.push(`${name}: microcents must be a whole number ≥ 0`);
    else if (name in prices) problems.push(`${name}: named twice`);
    else prices[name] = Number.isSafeInteger(Number(value)) ? Number(value) : value;
  }
  showError('prices-error', problems.join('\n'));
  const pricing = { prices };
  for (const [name] of FORMULAS) {
    const value = $(`#f-${name}`).value;
    if (value.trim()) pricing[name] = value;
  }
  const upstream = $('#f-upstream_pricing').value;
  if (upstream.trim()) pricing.upstream_pricing = upstream;
  return problems.length ? null : pricing;
}

function sampleUsage() {
  const text = $('#sample-usage').value;
  try {
    const sample = JSON.parse(text || '{}');
    if (!sample || typeof sample !== 'object' || Array.isArray(sample)) throw new Error('it must be a JSON object');
    showError('sample-usage-error', '');
    return sample;
  } catch (failure) {
    showError('sample-usage-error', `Sample usage is not valid JSON: ${failure.message}`);
    return null;
  }
}

export function schedulePreview(delay = 350) {
  clearTimeout(state.pricing.previewTimer);
  state.pricing.previewTimer = setTimeout(preview, delay);
}

const POSITION = /^(\d+):(\d+): ([\s\S]*)$/;

function formulaError(name, message) {
  const id = `f-${name}-error`;
  const match = POSITION.exec(message || '');
  if (!match) {
    showError(id, message || '');
    return;
  }
  const [, line, column, text] = match;
  showError(id, `line ${line}, column ${column} (${line}:${column}): ${text}`);
  const slot = document.getElementById(id);
  slot.dataset.line = line;
  slot.dataset.column = column;
  slot.append(el('button', { type: 'button', class: 'goto', 'data-formula': name, 'data-line': line, 'data-column': column, text: `Go to ${line}:${column}` }));
}

export function goTo(name, line, column) {
  const area = $(`#f-${name}`);
  const lines = area.value.split('\n');
  let offset = 0;
  for (let i = 0; i < Number(line) - 1 && i < lines.length; i += 1) offset += lines[i].length + 1;
  offset += Math.max(0, Number(column) - 1);
  area.focus();
  area.setSelectionRange(offset, Math.min(offset + 1, area.value.length));
}

async function preview() {
  if (!state.key) return;
  if (!grants('billing:read')) {
    // POST /usage/cel/evaluate needs billing:read: say so rather than earn a 403 per keystroke.
    $('#preview tbody').replaceChildren();
    $('#preview-description').textContent = 'No live preview: it needs the billing:read scope, which this API key lacks.';
    return;
  }
  const pricing = editorPricing();
  const sample = sampleUsage();
  if (!pricing || !sample) return;
  const fresh = begin('preview');
  for (const [name] of FORMULAS) showError(`f-${name}-error`, '');
  showError('preview-error', '');
  try {
    const result = await api('/usage/cel/evaluate', { method: 'POST', body: { ...sample, pricing } });
    if (!fresh()) return;
    const rows = rules.fee_components.map((component) => {
      const fee = result[component.field] || {};
      if (fee.error) formulaError(component.expression, fee.error);
      return el('tr', { 'data-component': component.field },
        el('th', { scope: 'row', text: feeLabel(component) }),
        el('td', { class: 'num' }, money(fee.value === undefined ? 0 : fee)),
        el('td', { class: 'err', text: fee.error || '' }));
    });
    $('#preview tbody').replaceChildren(...rows);
    const description = result.description || {};
    if (description.error) formulaError('description', description.error);
    $('#preview-description').textContent = description.error ? '' : `Description: ${description.value || '(empty)'}`;
    $('#preview').dataset.state = 'ready';
    $('#preview').dataset.count = String(Number($('#preview').dataset.count || 0) + 1);
  } catch (error) {
    if (!fresh()) return;
    report(error, 'preview-error', pricingFields(), preview, fresh);
  }
}

export async function savePricing() {
  const pricing = state.pricing;
  if (!pricing.app || !pricing.view) return;
  clearErrors($('#pricing-editor'));
  $('#pricing-action-status').textContent = '';
  const edited = editorPricing();
  if (!edited) return;
  const loaded = (pricing.view.draft && pricing.view.draft.pricing) || (pricing.view.live && pricing.view.live.pricing) || {};
  const patch = { prices: { ...edited.prices } };
  for (const name of Object.keys(loaded.prices || {})) if (!(name in patch.prices)) patch.prices[name] = 0; // 0 removes
  for (const [name] of FORMULAS) patch[name] = edited[name] || '';
  patch.upstream_pricing = edited.upstream_pricing || '';
  try {
    const view = await api(appPath(pricing.app), { method: 'PATCH', body: patch });
    showPricing(view);
    const warnings = Array.isArray(view.warnings) ? view.warnings : [];
    $('#pricing-action-status').textContent = `Draft saved (revision ${view.draft ? view.draft.revision : '?'}).${warnings.length ? ` Warnings: ${warnings.map((w) => (typeof w === 'string' ? w : w.message || JSON.stringify(w))).join('; ')}` : ''}`;
  } catch (error) {
    if (error instanceof ApiError) {
      for (const issue of error.fields) {
        const formula = String(issue.field || '').replace(/^pricing\./, '');
        if (FORMULAS.some(([name]) => name === formula)) {
          formulaError(formula, issue.message);
          issue.placed = true;
        }
      }
      error.fields = error.fields.filter((issue) => !issue.placed);
      if (!error.fields.length && error.status === 400) return;
    }
    report(error, 'pricing-action-error', pricingFields());
  }
}

/** Publishes the saved draft: now, or from effective_at (an RFC 3339 instant). */
async function publish(effectiveAt) {
  const pricing = state.pricing;
  if (!pricing.app) return;
  $('#publish-confirm').hidden = true;
  clearErrors($('#pricing-editor'));
  $('#pricing-action-status').textContent = '';
  try {
    const view = await api(`${appPath(pricing.app)}/publish`, { method: 'POST', body: effectiveAt ? { effective_at: effectiveAt } : undefined });
    showPricing(view);
    const warnings = Array.isArray(view.warnings) && view.warnings.length ? ` ${view.warnings.map((w) => (typeof w === 'string' ? w : w.message || JSON.stringify(w))).join('; ')}` : '';
    if (effectiveAt) {
      const status = $('#pricing-action-status');
      status.replaceChildren('Scheduled: the saved draft takes effect at ', time(effectiveAt), `.${warnings}`);
      $('#schedule-at').value = '';
      $('#schedule-utc').textContent = '';
    } else {
      $('#pricing-action-status').textContent = `Published: live version ${view.live ? view.live.version : '?'}.${warnings}`;
    }
    loadScheduled(pricing.app, () => true);
  } catch (error) {
    report(error, effectiveAt ? 'schedule-error' : 'pricing-action-error', pricingFields());
  }
}

export const publishNow = () => publish(null);

/** The schedule's date-time, read in the chosen zone; null (with the reason beside the field)
 * when it names no instant. The server judges how far ahead it must be (its 400 shows here). */
export function scheduleInstant() {
  const local = $('#schedule-at').value;
  const utc = $('#schedule-utc');
  utc.textContent = '';
  if (!local) {
    showError('schedule-at-error', 'Choose the date and time the draft takes effect.');
    return null;
  }
  const instant = zonedToUtc(local, state.tz);
  if (!instant) {
    showError('schedule-at-error', `${local.replace('T', ' ')} does not exist in ${state.tz} (the clocks skip it).`);
    return null;
  }
  showError('schedule-at-error', '');
  utc.textContent = `= ${instant} (UTC)`;
  return instant;
}

export function schedulePublish() {
  showError('schedule-error', '');
  const instant = scheduleInstant();
  if (instant) publish(instant);
}

/** The owner's scheduled versions, soonest first (GET …/pricing/scheduled). The API shows them to
 * the app's owner only: for an app of another namespace the page says so without asking. */
async function loadScheduled(parts, fresh) {
  const status = $('#scheduled-status');
  if (!state.access || parts[0] !== state.access.namespace) {
    $('#scheduled-list').replaceChildren();
    status.textContent = 'Scheduled versions are shown to the app\'s owner only.';
    return;
  }
  try {
    const answer = await api(`${appPath(parts)}/scheduled`);
    if (!fresh()) return;
    showScheduled(answer.scheduled || []);
  } catch (error) {
    if (!fresh()) return;
    report(error, 'scheduled-error', {}, () => loadScheduled(parts, fresh), fresh);
  }
}

function showScheduled(versions) {
  $('#scheduled-status').textContent = versions.length ? '' : 'None scheduled.';
  if (!versions.length) {
    $('#scheduled-list').replaceChildren();
    return;
  }
  const table = el('table', { class: 'data', id: 'scheduled-table' },
    el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Version' }), el('th', { scope: 'col', text: 'Takes effect' }), el('th', { scope: 'col', text: 'Published' }), el('th', { scope: 'col' }, el('span', { class: 'visually-hidden', text: 'Cancel' })))),
    el('tbody', {}, ...versions.map((version) => el('tr', { 'data-version': String(version.version) },
      el('td', { 'data-label': 'Version', text: `v${version.version}` }),
      el('td', { 'data-label': 'Takes effect' }, time(version.effective_at)),
      el('td', { 'data-label': 'Published' }, time(version.published_at)),
      el('td', {}, el('button', { type: 'button', class: 'scheduled-cancel', 'data-version': String(version.version), hidden: !state.pricing.writable, text: `Cancel v${version.version}` }))))));
  $('#scheduled-list').replaceChildren(scrollTable(table));
}

export async function cancelScheduled(version) {
  const parts = state.pricing.app;
  if (!parts) return;
  showError('scheduled-error', '');
  const status = $('#scheduled-status');
  try {
    await api(`${appPath(parts)}/scheduled/${encodeURIComponent(version)}`, { method: 'DELETE' });
    await loadScheduled(parts, () => true);
    status.textContent = `Cancelled version ${version}.`;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      await loadScheduled(parts, () => true);
      status.textContent = `Version ${version} is no longer scheduled.`;
      return;
    }
    report(error, 'scheduled-error', {});
  }
}

/** Shows the write actions exactly when the key may use them on this app, and says why not. */
function showAccess({ writable, reason }) {
  for (const selector of WRITE_ACTIONS) $(selector).hidden = !writable;
  for (const remove of $$('.price-remove, .scheduled-cancel')) remove.hidden = !writable;
  const note = $('#pricing-readonly');
  note.hidden = writable;
  note.textContent = reason;
  $('#panel-pricing').dataset.writable = writable ? 'yes' : 'no';
}

export async function runBacktest() {
  const pricing = editorPricing();
  if (!pricing || !state.pricing.app) return;
  clearErrors($('#pricing-editor'));
  const parts = state.pricing.app;
  const section = $('#backtest-result');
  const fresh = begin('backtest');
  const params = [['range', $('#backtest-range').value], ['tz', state.tz]];
  $('#backtest-body').replaceChildren(el('p', { class: 'loading', role: 'status', text: `Backtesting over the ${rangeLabel(params[0][1]).toLowerCase()}…` }));
  section.hidden = false;
  try {
    const result = await api(`${appPath(parts)}/backtest`, { method: 'POST', params, body: { pricing } });
    if (!fresh() || state.pricing.app !== parts) return;
    section.dataset.range = params[0][1];
    $('#backtest-body').replaceChildren(backtestView(result, params[0][1]));
  } catch (error) {
    if (!fresh()) return;
    section.hidden = true;
    report(error, 'pricing-action-error', pricingFields(), runBacktest, fresh);
  }
}

function backtestView(result, range) {
  const wrap = el('div');
  const summary = el('dl', { class: 'cost' },
    el('dt', { text: 'Window' }), el('dd', { text: rangeLabel(range) }),
    el('dt', { text: 'Tasks re-priced' }), el('dd', { text: `${result.tasks}${result.truncated ? ' (truncated at the limit)' : ''}` }),
    el('dt', { text: 'Charged now' }), el('dd', {}, money(result.current ? result.current.charged : 0)),
    el('dt', { text: 'Charged with this pricing' }), el('dd', {}, money(result.proposed ? result.proposed.charged : 0)),
    el('dt', { text: 'Difference' }), el('dd', {}, money(result.difference || 0), result.difference_percent === undefined || result.difference_percent === null ? '' : ` (${result.difference_percent} %)`),
    el('dt', { text: 'Errors' }), el('dd', { text: String(result.errors ? result.errors.count : 0) }));
  wrap.append(summary);
  const perFee = Object.entries(result.per_fee || {});
  if (perFee.length) {
    wrap.append(scrollTable(el('table', { class: 'data' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Fee' }), el('th', { scope: 'col', class: 'num', text: 'Now' }), el('th', { scope: 'col', class: 'num', text: 'Proposed' }))),
      el('tbody', {}, ...perFee.map(([fee, value]) => el('tr', {}, el('th', { scope: 'row', text: fee }), el('td', { class: 'num' }, money(value.current)), el('td', { class: 'num' }, money(value.proposed))))))));
  }
  const examples = result.examples || [];
  if (examples.length) {
    wrap.append(el('h4', { text: 'Largest differences' }), scrollTable(el('table', { class: 'data examples' },
      el('thead', {}, el('tr', {}, ...['Task', 'Completed', 'Now', 'Proposed'].map((text) => el('th', { scope: 'col', text })))),
      el('tbody', {}, ...examples.map((example) => el('tr', {},
        el('td', { 'data-label': 'Task', class: 'wrap', text: example.task_id }),
        el('td', { 'data-label': 'Completed' }, time(example.completed_at)),
        el('td', { 'data-label': 'Now', class: 'num' }, money(example.current)),
        el('td', { 'data-label': 'Proposed', class: 'num' }, money(example.proposed))))))));
  }
  return wrap;
}
