/* The Tasks tab: the task list a page at a time, newest first (the API's order=desc: by
 * completed_at then task id, the exact reverse of its default; the page never sorts rows on its
 * own), the window's count as the API's first page states it, its CSV (the same query, order
 * included), and a task's cost. */

import { api } from './api.js';
import { downloadCsv, fileZone, loading, rememberApps, settle, windowFields, windowParams, windowWords } from './controls.js';
import { $, clearErrors, el, showError } from './dom.js';
import { report } from './errors.js';
import { formatSeconds, money, time } from './format.js';
import { feeLabel, rules } from './rules.js';
import { begin, state } from './state.js';

function taskParams() {
  const params = windowParams('tasks');
  const status = $('#tasks-status').value;
  if (status) params.push(['status', status]);
  params.push(['limit', $('#tasks-limit').value]);
  params.push(['order', 'desc']);
  return params;
}

export async function loadTasks(direction) {
  const pages = state.tasks;
  if (direction === 'first') {
    pages.params = taskParams();
    pages.cursors = [null];
    pages.page = 0;
    // Rows before each page (a status filter's page may hold fewer than the limit), and the
    // window's count, which only the API's first page carries.
    pages.offsets = [0];
    pages.count = null;
  }
  const target = direction === 'next' ? pages.page + 1 : direction === 'prev' ? pages.page - 1 : direction === 'again' ? pages.failed : 0;
  const cursor = pages.cursors[target];
  if (target < 0 || cursor === undefined) return;
  const fresh = begin('tasks');
  clearErrors($('#tasks-form'));
  showError('tasks-error', '');
  const params = [...pages.params];
  if (cursor) params.push(['cursor', cursor]);
  $('#tasks-prev').disabled = true;
  $('#tasks-next').disabled = true;
  $('#tasks-csv').disabled = true;
  $('#tasks-page').textContent = `Loading page ${target + 1}…`;
  loading('tasks', `tasks, ${windowWords('tasks')}, page ${target + 1}`);
  try {
    const data = await api('/usage/tasks', { params });
    if (!fresh()) return;
    pages.available = true;
    $('#tasks-note').hidden = true;
    pages.page = target;
    pages.cursors.length = target + 1;
    if (data.has_more && data.next_cursor) pages.cursors[target + 1] = data.next_cursor;
    pages.offsets = pages.offsets || [0];
    pages.offsets.length = target + 1;
    pages.offsets[target + 1] = pages.offsets[target] + (data.data || []).length;
    if (target === 0) pages.count = data.count || null;
    pages.shownParams = params;
    renderTasks(data, target, pages.offsets[target], pages.count);
    $('#panel-tasks').dataset.page = String(target + 1);
    settle('tasks', params, 'ready');
  } catch (error) {
    if (!fresh()) return;
    pages.shownParams = null;
    delete $('#panel-tasks').dataset.page;
    $('#tasks-table tbody').replaceChildren();
    $('#tasks-count').textContent = '';
    delete $('#tasks-count').dataset.total;
    pages.failed = target; // Retry asks for the page that failed, from its own cursor
    report(error, 'tasks-error', windowFields('tasks'), () => loadTasks('again'), fresh);
    // The pager says what is on screen: nothing of the page that failed.
    $('#tasks-page').textContent = `Page ${target + 1} not loaded`;
    $('#tasks-prev').disabled = true;
    $('#tasks-next').disabled = true;
    pages.cursors.length = Math.max(pages.page, target) + 1;
    settle('tasks', params, 'error');
  }
}

/** "1,204 tasks from … to …" (the window the API counted, in the chosen zone), or nothing. */
function countLine(count) {
  if (!count || typeof count.tasks !== 'number') return [];
  const noun = count.tasks === 1 ? 'task' : 'tasks';
  return [`${count.tasks.toLocaleString('en-US')} ${noun} from `, time(count.start), ' to ', time(count.end), '. '];
}

function renderTasks(data, page, before, count) {
  const tasks = data.data || [];
  const rows = tasks.map((task) => el('tr', { 'data-task-id': task.task_id },
    el('td', { 'data-label': 'Completed' }, time(task.completed_at)),
    el('td', { 'data-label': 'Task' }, el('button', { type: 'button', class: 'link task-open', 'data-task-id': task.task_id, 'aria-haspopup': 'dialog', text: task.task_id })),
    el('td', { 'data-label': 'App', text: task.app }),
    el('td', { 'data-label': 'Status', text: task.status }),
    el('td', { 'data-label': 'Billing', text: task.billing_status }),
    el('td', { 'data-label': 'Charged', class: 'num' }, money(task.charged))));
  const hasMore = Boolean(data.has_more && data.next_cursor);
  // A status filter's page reads a bounded part of the window and may match nothing there.
  const empty = hasMore ? 'No matching tasks in the part of the window this page read; more on the next page.' : 'No tasks in this window.';
  if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 6, text: empty })));
  $('#tasks-table tbody').replaceChildren(...rows);
  rememberApps(tasks.map((task) => task.app));
  const first = before + 1;
  // Without a count (a status filter, or a window too large to count) the line says only which
  // rows of the walk these are: never a total it does not have.
  const shown = tasks.length
    ? `Showing ${first.toLocaleString('en-US')}–${(before + tasks.length).toLocaleString('en-US')}, newest first${hasMore ? '; more on the next page' : '; the last of the window'}.`
    : '';
  $('#tasks-count').replaceChildren(...countLine(count), shown);
  if (count) $('#tasks-count').dataset.total = String(count.tasks);
  else delete $('#tasks-count').dataset.total;
  $('#tasks-prev').disabled = page === 0;
  $('#tasks-next').disabled = !hasMore;
  $('#tasks-csv').disabled = false;
  $('#tasks-page').textContent = `Page ${page + 1}${hasMore ? '' : ' (last)'}`;
}

export function downloadTasksCsv() {
  const params = state.tasks.shownParams;
  if (!params) return;
  const range = (params.find(([name]) => name === 'range') || [])[1] || 'custom';
  downloadCsv('/usage/tasks', params, `tasks_${range}_page${state.tasks.page + 1}_${fileZone()}.csv`, 'tasks-error');
}

export async function openTask(taskId, origin) {
  const dialog = $('#task-dialog');
  $('#task-dialog-title').textContent = `Task ${taskId}`;
  $('#task-dialog-body').replaceChildren(el('p', { class: 'status', text: 'Loading…' }));
  showError('task-dialog-error', '');
  if (!dialog.open) dialog.showModal();
  dialog.dataset.origin = origin || '';
  const fresh = begin('task-dialog');
  try {
    const cost = await api(`/usage/tasks/${encodeURIComponent(taskId)}/cost`);
    if (!fresh()) return;
    $('#task-dialog-body').replaceChildren(taskCostList(cost));
  } catch (error) {
    if (!fresh()) return;
    $('#task-dialog-body').replaceChildren();
    report(error, 'task-dialog-error', {}, () => openTask(taskId, origin), fresh);
  }
}

function feeItem(label, fee) {
  const items = [el('dt', { text: label })];
  if (!fee) {
    items.push(el('dd', { text: '–' }));
    return items;
  }
  const dd = el('dd', {}, money(fee));
  if (fee.error) dd.append(el('span', { class: 'error', text: ` ${fee.error}` }));
  items.push(dd);
  return items;
}

function taskCostList(cost) {
  const list = el('dl', { class: 'cost' });
  const plain = (label, value) => list.append(el('dt', { text: label }), el('dd', { text: value === null || value === undefined || value === '' ? '–' : String(value) }));
  const when = (label, iso) => list.append(el('dt', { text: label }), el('dd', {}, time(iso)));
  plain('App', `${cost.app}${cost.app_version ? ` @ ${cost.app_version}` : ''}`);
  plain('Status', cost.status);
  plain('Billing', cost.billing_status);
  when('Completed', cost.completed_at);
  for (const component of rules.fee_components) list.append(...feeItem(feeLabel(component), cost[component.field]));
  list.append(...feeItem('Discount', cost.discount));
  plain('Discount reason', cost.discount_reason);
  list.append(...feeItem('Charged', cost.charged));
  if (cost.refunded) {
    list.append(el('dt', { text: 'Refunded' }), el('dd', {}, 'yes', cost.refunded_at ? ', ' : '', cost.refunded_at ? time(cost.refunded_at) : '', cost.refund_reason ? ` (${cost.refund_reason})` : ''));
  } else {
    plain('Refunded', 'no');
  }
  plain('Meter', cost.meter);
  list.append(...feeItem('Meter price per hour', cost.meter_price));
  plain('Inference time', cost.inference_time === undefined ? '' : `${formatSeconds(cost.inference_time)} (${cost.inference_time} s billed)`);
  list.append(...feeItem('Inference cost', cost.inference_cost));
  plain('Pricing version', cost.pricing_version === 0 ? '0 (no pricing published: platform defaults)' : cost.pricing_version);
  const errors = Object.entries(cost.errors || {});
  plain('Errors', errors.length ? errors.map(([name, message]) => `${name}: ${message}`).join('; ') : 'none');
  return list;
}

