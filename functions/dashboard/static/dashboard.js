/* The spend dashboard (docs/dashboard.md, docs/api.md#spend-controls), an ES module: plain ES2022, no build step; Chart.js is
 * the only library and ships beside this file (a classic script, run before the modules). Each
 * tab is its own module; the server's rules come from rules.json (rules.js). Money is integer
 * microcents (1 USD = 100,000,000), summed as BigInt, shown as the server's dollars. */

import { ApiError, api, cancelRetry, showTransient } from './api.js';
import { buildBudgetForm, deleteBudget, editBudget, loadBudgets, saveBudget } from './budgets.js';
import { chooseZone, fillRanges, fillTimeZones, toggleCustom } from './controls.js';
import { tabBlocked } from './access.js';
import { $, $$, el, showError } from './dom.js';
import { report, setKeyStatus } from './errors.js';
import { colourFor, dollarsText, seriesLooks, toDollars, zonedToUtc } from './format.js';
import {
  addPriceRow, buildPricing, cancelScheduled, goTo, loadPricingTab, openPricing, publishNow, runBacktest,
  savePricing, scheduleInstant, schedulePreview, schedulePublish, updatePriceDollars,
} from './pricing.js';
import { rules } from './rules.js';
import { downloadSpendCsv, loadSpend, renderSpendTable, spendCsv } from './spend.js';
import { KEY_STORAGE, begin, state } from './state.js';
import { downloadTasksCsv, loadTasks, openTask } from './tasks.js';
import { downloadUsageCsv, loadUsage } from './usage.js';

/* ---------------------------------------------------------------- the key */

function keyPresent() {
  const present = Boolean(state.key);
  $('#no-key').hidden = present;
  return present;
}

async function useKey(key) {
  state.key = key.trim();
  showError('key-error', '');
  cancelRetry('key-status');
  if (!state.key) {
    sessionStorage.removeItem(KEY_STORAGE);
    showError('key-error', `Type an API key (it starts with ${rules.key_prefix}).`);
    keyPresent();
    return;
  }
  sessionStorage.setItem(KEY_STORAGE, state.key);
  keyPresent();
  await checkKey();
}

/** What the key may do, asked once (GET /keys/current): a 401 marks the key wrong; a timeout, a
 * 503 or an answer that is not JSON judges nothing and is retried; the answer decides which tabs
 * load and which actions show. */
async function checkKey() {
  const fresh = begin('key');
  setKeyStatus('Checking key…');
  state.loaded = {};
  state.access = null;
  try {
    const access = await api('/keys/current');
    if (!fresh()) return;
    if (!access || !Array.isArray(access.grants) || typeof access.namespace !== 'string') {
      throw new ApiError(200, { title: 'Bad answer', detail: 'GET /keys/current did not say what the key may do' }, '/keys/current', { kind: 'not-json' });
    }
    state.access = access;
    // An app opened under another key opens again, its actions drawn for this one.
    state.pricing.view = null;
    setKeyStatus('Key accepted', true);
  } catch (error) {
    if (!fresh()) return;
    if (error instanceof ApiError && error.status === 403) {
      // A key the API knows that opens none of the routes the page uses.
      state.access = { team_id: '', namespace: '', scopes: [], grants: [] };
      setKeyStatus('Key accepted, but it grants none of the scopes this page uses', true);
    } else if (error instanceof ApiError && (error.transient || error.kind === 'not-json')) {
      // The key was not judged: nothing about it is marked wrong; the check runs again.
      showTransient('key-status', error, checkKey, fresh, (text) => setKeyStatus(`Could not check the key: ${text}`));
      return;
    } else {
      report(error, 'key-error');
      if (!(error instanceof ApiError && error.status === 401)) setKeyStatus('');
      return;
    }
  }
  loadCurrentTab(true);
}

function forgetKey() {
  state.key = '';
  state.access = null;
  sessionStorage.removeItem(KEY_STORAGE);
  $('#api-key').value = '';
  setKeyStatus('Key forgotten');
  keyPresent();
}

/* ---------------------------------------------------------------- tabs (WAI-ARIA tabs pattern) */

const TABS = ['spend', 'usage', 'tasks', 'pricing', 'budgets'];
const LOADERS = { spend: loadSpend, usage: loadUsage, tasks: () => loadTasks('first'), pricing: loadPricingTab, budgets: loadBudgets };

const RELOAD_ON_SHOW = new Set(['budgets']);

function currentTab() {
  return ($('[role="tab"][aria-selected="true"]').id || 'tab-spend').slice(4);
}

function selectTab(name, focus) {
  for (const tab of TABS) {
    const button = document.getElementById(`tab-${tab}`);
    const selected = tab === name;
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
    document.getElementById(`panel-${tab}`).hidden = !selected;
  }
  if (focus) document.getElementById(`tab-${name}`).focus();
  if (window.location.hash !== `#${name}`) window.history.replaceState(null, '', `#${name}`);
  loadCurrentTab(false);
}

function onTabKey(event) {
  const index = TABS.indexOf(event.currentTarget.id.slice(4));
  const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: TABS.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  selectTab(TABS[(moves[event.key] + TABS.length) % TABS.length], true);
}

/** Loads the shown tab once the key's access is known; a tab whose read scope the key lacks
 * says so instead of asking the API for a 403. */
function loadCurrentTab(force) {
  if (!keyPresent() || !state.access) return;
  const tab = currentTab();
  // Budgets change outside the page (the API, another admin, billing's own spend): the tab asks
  // again each time it is shown. The other tabs keep what their pickers last loaded.
  if (!force && state.loaded[tab] && !RELOAD_ON_SHOW.has(tab)) return;
  state.loaded[tab] = true;
  const panel = document.getElementById(`panel-${tab}`);
  const blocked = tabBlocked(tab);
  let note = document.getElementById(`${tab}-scope`);
  if (blocked && !note) {
    note = el('p', { id: `${tab}-scope`, class: 'notice scope-note', role: 'status' });
    panel.prepend(note);
  }
  if (note) {
    note.textContent = blocked;
    note.hidden = !blocked;
  }
  panel.dataset.scope = blocked ? 'missing' : 'granted';
  if (!blocked) LOADERS[tab]();
}

/* ---------------------------------------------------------------- wiring */

function onControlsChange(prefix, load) {
  const form = $(`#${prefix}-form`);
  form.addEventListener('submit', (event) => { event.preventDefault(); if (keyPresent()) load(); });
  form.addEventListener('change', (event) => {
    if (event.target.classList.contains('tz-select')) chooseZone(event.target.value);
    if (event.target.id === `${prefix}-range`) toggleCustom(prefix);
    if (keyPresent()) load();
  });
}

function start() {
  fillRanges();
  fillTimeZones();
  buildPricing();
  buildBudgetForm();
  $('#api-key').placeholder = `${rules.key_prefix}…`;
  for (const span of $$('.per-dollar')) span.textContent = Number(rules.money.microcents_per_dollar).toLocaleString('en-US');
  if (!window.Chart) showError('spend-error', 'The chart library did not load; figures are shown in the tables only.');

  $('#api-key').value = state.key;
  $('#key-form').addEventListener('submit', (event) => { event.preventDefault(); useKey($('#api-key').value); });
  $('#key-forget').addEventListener('click', forgetKey);

  for (const tab of TABS) {
    const button = document.getElementById(`tab-${tab}`);
    button.addEventListener('click', () => selectTab(tab, false));
    button.addEventListener('keydown', onTabKey);
  }

  onControlsChange('spend', loadSpend);
  onControlsChange('usage', loadUsage);
  onControlsChange('tasks', () => loadTasks('first'));
  $('#spend-csv').addEventListener('click', downloadSpendCsv);
  $('#usage-csv').addEventListener('click', downloadUsageCsv);
  $('#tasks-csv').addEventListener('click', downloadTasksCsv);
  $('#spend-data').addEventListener('toggle', () => { if ($('#spend-data').open) renderSpendTable(state.spend); });

  $('#tasks-prev').addEventListener('click', () => loadTasks('prev'));
  $('#tasks-next').addEventListener('click', () => loadTasks('next'));
  $('#tasks-table').addEventListener('click', (event) => {
    const button = event.target.closest('.task-open');
    if (button) openTask(button.dataset.taskId, button.dataset.taskId);
  });
  $('#task-lookup').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = $('#task-id').value.trim();
    showError('task-id-error', id ? '' : 'Type a task id.');
    if (id && keyPresent()) openTask(id, '');
  });
  $('#task-dialog').addEventListener('close', () => {
    const origin = $('#task-dialog').dataset.origin;
    const button = origin && $(`.task-open[data-task-id="${CSS.escape(origin)}"]`);
    if (button) button.focus();
  });

  $('#pricing-app-form').addEventListener('submit', (event) => { event.preventDefault(); if (keyPresent()) openPricing(); });
  $('#pricing-tz').addEventListener('change', (event) => { chooseZone(event.target.value); state.loaded.pricing = true; if ($('#schedule-at').value) scheduleInstant(); if (state.pricing.app) openPricing(); });
  $('#price-add').addEventListener('click', () => { $('.price-name', addPriceRow()).focus(); });
  $('#prices-table').addEventListener('click', (event) => {
    const button = event.target.closest('.price-remove');
    if (!button) return;
    button.closest('tr').remove();
    schedulePreview();
    $('#price-add').focus();
  });
  $('#prices-table').addEventListener('input', (event) => {
    const row = event.target.closest('tr');
    if (row) updatePriceDollars(row);
    schedulePreview();
  });
  $('#formulas').addEventListener('input', () => schedulePreview());
  $('#formulas').addEventListener('click', (event) => {
    const button = event.target.closest('.goto');
    if (button) goTo(button.dataset.formula, button.dataset.line, button.dataset.column);
  });
  $('#sample-usage').addEventListener('input', () => schedulePreview());
  $('#f-upstream_pricing').addEventListener('input', () => schedulePreview());
  $('#pricing-save').addEventListener('click', savePricing);
  $('#pricing-publish').addEventListener('click', () => {
    const draft = state.pricing.view && state.pricing.view.draft;
    $('#publish-question').textContent = draft ? `Make draft revision ${draft.revision} live now? Unsaved edits are not published.` : 'There is no saved draft to publish.';
    $('#publish-yes').disabled = !draft;
    $('#publish-confirm').hidden = false;
    $(draft ? '#publish-yes' : '#publish-no').focus();
  });
  $('#publish-yes').addEventListener('click', publishNow);
  $('#publish-no').addEventListener('click', () => { $('#publish-confirm').hidden = true; $('#pricing-publish').focus(); });
  $('#schedule-form').addEventListener('submit', (event) => { event.preventDefault(); schedulePublish(); });
  $('#schedule-at').addEventListener('change', scheduleInstant);
  $('#scheduled-list').addEventListener('click', (event) => {
    const button = event.target.closest('.scheduled-cancel');
    if (button) cancelScheduled(button.dataset.version);
  });
  $('#backtest-form').addEventListener('submit', (event) => { event.preventDefault(); runBacktest(); });
  $('#pricing-backtest').addEventListener('click', (event) => { event.preventDefault(); runBacktest(); });

  $('#budgets-refresh').addEventListener('click', () => { if (keyPresent()) loadBudgets(); });
  $('#budget-form').addEventListener('submit', (event) => { event.preventDefault(); saveBudget(); });
  $('#budgets-list').addEventListener('click', (event) => {
    const edit = event.target.closest('.budget-edit');
    if (edit) editBudget(edit.dataset.budgetId);
    const remove = event.target.closest('.budget-delete');
    if (remove) deleteBudget(remove.dataset.budgetId);
  });

  const hash = window.location.hash.slice(1);
  keyPresent();
  selectTab(TABS.includes(hash) ? hash : 'spend', false);
  // A key saved in this tab is asked about again: what it may do can have changed.
  if (state.key) checkKey();
}

// For tests and the curious: the state the page draws from (read-only use intended), and the
// formatters a test holds to the server's.
window.dashboard = {
  state,
  rules,
  toDollars: (value) => toDollars(BigInt(value)),
  dollarsText: (value) => dollarsText(BigInt(value)),
  zonedToUtc,
  colourFor,
  seriesLooks: (names) => Object.fromEntries(seriesLooks(names)),
  spendCsv: () => (state.spend ? spendCsv(state.spend) : Promise.resolve('')),
};

start();
