/* The Budgets tab (docs/api.md#spend-controls): each budget's period spend and holds as a bar against its limit,
 * its thresholds marked, the thresholds crossed this period listed; a form to create, change
 * and delete budgets for a key with billing:write (as GET /keys/current said, access.js),
 * read-only otherwise, with the reason. The form's periods and actions are the server's
 * (rules.json), in the page's words. */

import { budgetWrite } from './access.js';
import { api } from './api.js';
import { loading, settle } from './controls.js';
import { $, $$, clearErrors, el, showError } from './dom.js';
import { report } from './errors.js';
import { big, money, time } from './format.js';
import { rules } from './rules.js';
import { begin, state } from './state.js';

const FIELDS = {
  budgetID: 'budget-id-error', budget_id: 'budget-id-error', app: 'budget-app-error', period: 'budget-period-error', tz: 'budget-tz-error',
  limit: 'budget-limit-error', thresholds: 'budget-thresholds-error', action: 'budget-action-error',
};

function budgetsOf(answer) {
  if (Array.isArray(answer)) return answer;
  return answer.data || answer.budgets || [];
}

const idOf = (budget) => budget.budget_id || budget.id;
const valueOf = (figure) => (figure !== null && typeof figure === 'object' ? big(figure.value) : big(figure));

export async function loadBudgets() {
  const fresh = begin('budgets');
  clearErrors($('#panel-budgets'));
  showAccess(budgetWrite());
  loading('budgets', 'budgets');
  const params = [];
  try {
    const answer = await api('/budgets');
    if (!fresh()) return;
    state.budgets.list = budgetsOf(answer);
    renderBudgets(state.budgets.list);
    $('#budgets-content').hidden = false;
    settle('budgets', params, 'ready');
  } catch (error) {
    if (!fresh()) return;
    state.budgets.list = null;
    $('#budgets-list').replaceChildren();
    report(error, 'budgets-error', {}, loadBudgets, fresh);
    settle('budgets', params, 'error');
  }
}

/** Shows the form and each budget's Change and Delete exactly when the key may use them. */
function showAccess({ writable, reason }) {
  state.budgets.writable = writable;
  $('#budget-form').hidden = !writable;
  for (const button of $$('.budget-edit, .budget-delete')) button.hidden = !writable;
  const note = $('#budgets-readonly');
  note.hidden = writable;
  note.textContent = reason;
  $('#panel-budgets').dataset.writable = writable ? 'yes' : 'no';
}

// The page's words for the server's periods and actions; one the server adds without words
// here is offered as its own value.
const PERIOD_LABELS = { day: 'Day', week: 'Week (from Monday)', month: 'Month' };
const ACTION_LABELS = { alert: 'Alert', block: 'Block new runs' };

/** The form's choices, from the server's rules (rules.json: budget). */
export function buildBudgetForm() {
  const budget = rules.budget;
  const preferred = budget.periods.includes('month') ? 'month' : budget.periods[0];
  $('#budget-period').replaceChildren(...budget.periods.map((period) => el('option', { value: period, text: PERIOD_LABELS[period] || period, selected: period === preferred })));
  $('#budget-action').replaceChildren(...budget.actions.map((action) => el('option', { value: action, text: ACTION_LABELS[action] || action, selected: action === budget.default_action })));
  $('#budget-thresholds').placeholder = budget.default_thresholds.join(', ');
  $('#budget-thresholds-help').textContent = `Up to ${budget.max_thresholds} whole percentages of the limit, each 1 to ${budget.max_threshold_percent}; empty: ${budget.default_thresholds.join(', ')}.`;
}

function renderBudgets(budgets) {
  if (!budgets.length) {
    $('#budgets-list').replaceChildren(el('p', { class: 'status', text: 'No budgets yet.' }));
    return;
  }
  $('#budgets-list').replaceChildren(...budgets.map(budgetCard));
  for (const part of $$('[data-width]', $('#budgets-list'))) part.style.width = `${part.dataset.width}%`;
  for (const mark of $$('[data-left]', $('#budgets-list'))) mark.style.left = `${mark.dataset.left}%`;
}

/** A share of the bar's scale as a CSS percentage, exact enough to draw. */
function share(part, scale) {
  if (scale <= 0n) return '0';
  const clamped = part < 0n ? 0n : part > scale ? scale : part;
  return (Number((clamped * 100000n) / scale) / 1000).toFixed(3);
}

function budgetCard(budget) {
  const id = idOf(budget);
  const limit = valueOf(budget.limit);
  const spent = valueOf(budget.spent);
  const held = valueOf(budget.held);
  const thresholds = Array.isArray(budget.thresholds) ? budget.thresholds : [];
  const crossed = new Set(Array.isArray(budget.crossed) ? budget.crossed.map(Number) : []);
  // The bar's scale reaches the highest threshold (they may exceed 100 %) and what is used.
  let scale = limit;
  for (const threshold of thresholds) {
    const at = (limit * BigInt(threshold)) / 100n;
    if (at > scale) scale = at;
  }
  if (spent + held > scale) scale = spent + held;
  const bar = el('div', { class: 'budget-bar', role: 'img', 'aria-label': `${id}: spent ${spent} and held ${held} of a limit of ${limit} microcents` },
    el('span', { class: 'budget-spent', 'data-width': share(spent, scale) }),
    el('span', { class: 'budget-held', 'data-width': share(held, scale) }),
    el('span', { class: 'budget-limit', 'data-left': share(limit, scale), title: 'Limit' }),
    ...thresholds.map((threshold) => el('span', {
      class: `budget-threshold${crossed.has(Number(threshold)) ? ' crossed' : ''}`,
      'data-left': share((limit * BigInt(threshold)) / 100n, scale), 'data-threshold': String(threshold), title: `${threshold} %`,
    })));
  const scope = budget.app ? `App ${budget.app}` : 'The whole team';
  const crossings = thresholds.filter((threshold) => crossed.has(Number(threshold)));
  return el('article', { class: 'budget', 'data-budget-id': id, 'aria-labelledby': `budget-${id}-title` },
    el('h3', { id: `budget-${id}-title`, text: id }),
    el('p', { class: 'status', text: `${scope} · per ${budget.period} (${budget.tz || 'UTC'}) · ${budget.action === 'block' ? 'blocks runs past the limit' : 'alerts only'}` }),
    bar,
    el('dl', { class: 'cost budget-figures' },
      el('dt', { text: 'Period' }), el('dd', {}, time(budget.period_start), ' → ', time(budget.period_end)),
      el('dt', { text: 'Spent' }), el('dd', {}, money(budget.spent)),
      el('dt', { text: 'Held' }), el('dd', {}, money(budget.held)),
      el('dt', { text: 'Limit' }), el('dd', {}, money(budget.limit)),
      el('dt', { text: 'Remaining' }), el('dd', {}, money(budget.remaining)),
      el('dt', { text: 'Thresholds' }), el('dd', { text: thresholds.map((t) => `${t} %`).join(', ') || '–' }),
      el('dt', { text: 'Crossed this period' }), el('dd', { class: 'budget-crossed', text: crossings.length ? crossings.map((t) => `${t} %`).join(', ') : 'none' }),
      el('dt', { text: 'As of' }), el('dd', {}, time(budget.as_of))),
    el('div', { class: 'actions row' },
      el('button', { type: 'button', class: 'budget-edit', 'data-budget-id': id, hidden: !state.budgets.writable, text: `Change ${id}` }),
      el('button', { type: 'button', class: 'budget-delete', 'data-budget-id': id, hidden: !state.budgets.writable, text: `Delete ${id}` })));
}

/** Fills the form from a listed budget, to change it (PUT replaces it whole). */
export function editBudget(id) {
  const budget = (state.budgets.list || []).find((candidate) => idOf(candidate) === id);
  if (!budget) return;
  $('#budget-id').value = id;
  $('#budget-app').value = budget.app || '';
  $('#budget-period').value = budget.period;
  $('#budget-tz').value = budget.tz || 'UTC';
  $('#budget-limit').value = String(valueOf(budget.limit));
  $('#budget-thresholds').value = (budget.thresholds || []).join(', ');
  $('#budget-action').value = budget.action || rules.budget.default_action;
  $('#budget-id').focus();
}

export async function saveBudget() {
  clearErrors($('#budget-form'));
  $('#budgets-status').textContent = '';
  const id = $('#budget-id').value.trim();
  const limit = $('#budget-limit').value.trim();
  const body = { period: $('#budget-period').value, tz: $('#budget-tz').value, action: $('#budget-action').value };
  if (!id) { showError('budget-id-error', 'Name the budget.'); return; }
  if (!/^\d+$/.test(limit)) { showError('budget-limit-error', 'The limit is a whole number of microcents.'); return; }
  body.limit = Number.isSafeInteger(Number(limit)) ? Number(limit) : limit;
  const app = $('#budget-app').value.trim();
  if (app) body.app = app;
  const thresholds = $('#budget-thresholds').value.trim();
  if (thresholds) {
    const values = thresholds.split(/[\s,]+/).filter(Boolean);
    if (!values.every((value) => /^\d+$/.test(value))) { showError('budget-thresholds-error', 'Thresholds are whole percentages, separated by commas.'); return; }
    body.thresholds = values.map(Number);
  }
  try {
    await api(`/budgets/${encodeURIComponent(id)}`, { method: 'PUT', body });
    $('#budgets-status').textContent = `Saved budget ${id}.`;
    await loadBudgets();
  } catch (error) {
    report(error, 'budget-form-error', FIELDS);
  }
}

export async function deleteBudget(id) {
  const button = $(`.budget-delete[data-budget-id="${CSS.escape(id)}"]`);
  if (button && button.dataset.confirm !== 'yes') {
    button.dataset.confirm = 'yes';
    button.textContent = `Really delete ${id}?`;
    return;
  }
  try {
    await api(`/budgets/${encodeURIComponent(id)}`, { method: 'DELETE' });
    $('#budgets-status').textContent = `Deleted budget ${id}.`;
    await loadBudgets();
  } catch (error) {
    report(error, 'budgets-error', {});
  }
}
