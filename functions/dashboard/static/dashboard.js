/* The spend dashboard (SPEC §11). Plain ES2020, no build step; Chart.js is the only library and
 * ships beside this file. Money is integer microcents (1 USD = 100,000,000) and is summed as
 * BigInt, so totals shown are exact; charts plot Numbers of dollars. */
(() => {
  'use strict';

  const KEY_STORAGE = 'usage-pricing.api-key';
  const PER_DOLLAR = 100000000n;
  // Okabe & Ito's palette: distinguishable with every common form of colour blindness.
  const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
  const OTHER_COLOUR = '#999999';
  const FEE_COMPONENTS = [
    ['resource_fee', 'resource_expression', 'Resource fee'],
    ['inference_fee', 'inference_expression', 'Inference fee'],
    ['royalty_fee', 'royalty_expression', 'Royalty fee'],
    ['partner_fee', 'partner_expression', 'Partner fee'],
    ['total', 'total_expression', 'Total'],
  ];
  const FORMULAS = [
    ['resource_expression', 'Resource fee', 'Empty: Σ resource rate × usage time'],
    ['inference_expression', 'Inference fee', 'Empty: the platform default'],
    ['royalty_expression', 'Royalty fee', 'Empty: the platform default'],
    ['partner_expression', 'Partner fee', 'Empty: the platform default'],
    ['total_expression', 'Total', 'Empty: the sum of the four fees'],
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

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  const state = {
    key: sessionStorage.getItem(KEY_STORAGE) || '',
    apps: new Set(),
    charts: {},
    spend: null,
    loaded: {},
    sequence: {},
    tasks: { cursors: [null], page: 0, params: null, available: true },
    pricing: { app: null, view: null, removed: new Set(), backtest: false, previewTimer: 0 },
  };

  /* ---------------------------------------------------------------- money and numbers */

  function big(value) {
    if (typeof value === 'bigint') return value;
    if (typeof value === 'number') return BigInt(Math.trunc(value));
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
    return 0n;
  }

  /** SPEC §3's to_dollars: at least 2, at most 8 decimals, exact. */
  function toDollars(microcents) {
    let value = big(microcents);
    const negative = value < 0n;
    if (negative) value = -value;
    const whole = value / PER_DOLLAR;
    let fraction = (value % PER_DOLLAR).toString().padStart(8, '0').replace(/0+$/, '');
    if (fraction.length < 2) fraction = fraction.padEnd(2, '0');
    return `${negative ? '-' : ''}${whole.toLocaleString('en-US')}.${fraction}`;
  }

  /** Dollars as people read them: cents from $1 up, every significant digit below. */
  function displayDollars(microcents) {
    const value = big(microcents);
    const magnitude = value < 0n ? -value : value;
    if (magnitude < PER_DOLLAR) return `$${toDollars(value)}`;
    const cents = (magnitude + 500000n) / 1000000n; // half away from zero
    const text = `${(cents / 100n).toLocaleString('en-US')}.${(cents % 100n).toString().padStart(2, '0')}`;
    return `${value < 0n ? '-' : ''}$${text}`;
  }

  function exactTitle(microcents) {
    return `$${toDollars(microcents)} exactly = ${big(microcents).toLocaleString('en-US')} microcents`;
  }

  /** A money element: dollars shown, the exact microcents on hover and to assistive tech. */
  function money(microcents) {
    if (microcents === null || microcents === undefined) {
      // The API answers null for a figure beyond int64 and names it under `errors`.
      const text = microcents === null ? 'overflow' : '–';
      return el('span', { class: 'no-figure', title: microcents === null ? 'Beyond int64: see the errors the API reported' : 'Not reported', text });
    }
    const element = document.createElement('data');
    element.className = 'money';
    element.value = big(microcents).toString();
    element.textContent = displayDollars(microcents);
    element.title = exactTitle(microcents);
    element.setAttribute('aria-label', `${displayDollars(microcents)} (${big(microcents).toLocaleString('en-US')} microcents)`);
    return element;
  }

  function formatSeconds(total) {
    let seconds = Number(total);
    const hours = Math.floor(seconds / 3600);
    seconds -= hours * 3600;
    const minutes = Math.floor(seconds / 60);
    seconds -= minutes * 60;
    if (hours) return `${hours.toLocaleString('en-US')} h ${String(minutes).padStart(2, '0')} min`;
    if (minutes) return `${minutes} min ${String(seconds).padStart(2, '0')} s`;
    return `${seconds} s`;
  }

  /** JSON with integers beyond 2^53 kept exact (as BigInt) where the browser exposes source text. */
  function parseJson(text) {
    return JSON.parse(text, (key, value, context) => {
      if (typeof value === 'number' && !Number.isSafeInteger(value) && context && /^-?\d+$/.test(context.source)) {
        return BigInt(context.source);
      }
      return value;
    });
  }

  function el(tag, attributes = {}, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'text') element.textContent = value;
      else if (name === 'class') element.className = value;
      else element.setAttribute(name, value === true ? '' : value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return element;
  }

  /* ---------------------------------------------------------------- the API */

  class ApiError extends Error {
    constructor(status, problem, url) {
      super(problem.detail || problem.title || `HTTP ${status}`);
      this.status = status;
      this.problem = problem;
      this.url = url;
      this.fields = Array.isArray(problem.errors) ? problem.errors : [];
    }

    get noSuchRoute() {
      return this.status === 404 && this.problem.detail === 'no such route';
    }
  }

  async function api(path, { method = 'GET', params = [], body, accept } = {}) {
    const url = new URL(path, window.location.origin);
    for (const [name, value] of params) url.searchParams.append(name, value);
    const headers = { Authorization: `Bearer ${state.key}`, 'X-API-Version': '2' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (accept) headers.Accept = accept;
    let response;
    try {
      response = await fetch(url, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer',
      });
    } catch (failure) {
      throw new ApiError(0, { title: 'Network error', detail: `cannot reach the API (${failure.message})` }, url);
    }
    const text = await response.text();
    const type = (response.headers.get('content-type') || '').toLowerCase();
    if (!response.ok) {
      let problem;
      try { problem = parseJson(text); } catch { problem = null; }
      if (!problem || typeof problem !== 'object') {
        problem = { title: response.statusText || `HTTP ${response.status}`, detail: text.slice(0, 300) || `HTTP ${response.status}` };
      }
      const retry = response.headers.get('retry-after');
      if (response.status === 503 && retry) problem.detail = `${problem.detail} (retry after ${retry} s)`;
      throw new ApiError(response.status, problem, url);
    }
    return type.includes('json') ? parseJson(text) : text;
  }

  /* ---------------------------------------------------------------- errors beside their cause */

  function showError(id, message) {
    const slot = document.getElementById(id);
    if (!slot || !slot.classList.contains('error')) return;
    slot.textContent = message;
    slot.hidden = !message;
    const control = document.querySelector(`[aria-describedby~="${id}"]`);
    if (control) {
      if (message) control.setAttribute('aria-invalid', 'true');
      else control.removeAttribute('aria-invalid');
    }
  }

  function clearErrors(root) {
    for (const slot of $$('.error', root)) {
      slot.textContent = '';
      slot.hidden = true;
    }
    for (const control of $$('[aria-invalid]', root)) control.removeAttribute('aria-invalid');
  }

  /**
   * Puts an API error next to what caused it: 401 beside the key, each field of a 400 beside its
   * control (fields maps an API field name, or its first dotted part, to an error slot id), the
   * rest beside the action (fallback).
   */
  function report(error, fallback, fields = {}) {
    if (!(error instanceof ApiError)) {
      showError(fallback, `Unexpected error: ${error && error.message ? error.message : error}`);
      return;
    }
    if (error.status === 401) {
      showError('key-error', `The API rejected this key (401): ${error.message}`);
      setKeyStatus('Key rejected', false);
      if (fallback !== 'key-error') showError(fallback, 'Not authorised: check the API key above.');
      return;
    }
    const placed = new Set();
    for (const issue of error.fields) {
      const field = String(issue.field || '');
      const slot = fields[field] || fields[field.split('.').slice(0, 2).join('.')] || fields[field.split('.')[0]];
      const target = slot && document.getElementById(slot);
      if (target && target.classList.contains('error')) {
        const existing = document.getElementById(slot);
        const prior = existing && !existing.hidden ? `${existing.textContent}\n` : '';
        showError(slot, `${prior}${field}: ${issue.message}`);
        placed.add(issue);
      }
    }
    const rest = error.fields.filter((issue) => !placed.has(issue));
    const prefix = error.status === 403 ? 'Forbidden (403)' : error.status ? `${error.problem.title || 'Error'} (${error.status})` : error.problem.title;
    if (!placed.size || rest.length) {
      const details = rest.map((issue) => `${issue.field}: ${issue.message}`).join('\n');
      showError(fallback, `${prefix}: ${error.message}${details && !error.message.includes(details) ? `\n${details}` : ''}`);
    }
  }

  /* ---------------------------------------------------------------- the key */

  function setKeyStatus(text, ok) {
    const status = $('#key-status');
    status.textContent = text;
    status.classList.toggle('ok', Boolean(ok));
  }

  function keyPresent() {
    const present = Boolean(state.key);
    $('#no-key').hidden = present;
    return present;
  }

  async function useKey(key) {
    state.key = key.trim();
    showError('key-error', '');
    if (!state.key) {
      sessionStorage.removeItem(KEY_STORAGE);
      showError('key-error', 'Type an API key (it starts with inf_).');
      keyPresent();
      return;
    }
    sessionStorage.setItem(KEY_STORAGE, state.key);
    keyPresent();
    setKeyStatus('Checking key…');
    state.loaded = {};
    try {
      const probe = await api('/usage/breakdown', { params: [['range', '1h']] });
      state.windows = probe.bucket !== undefined; // an API with start/end windows echoes its bucket
      setKeyStatus('Key accepted', true);
    } catch (error) {
      if (error instanceof ApiError && error.status === 403) {
        setKeyStatus('Key accepted; it cannot read spend (no billing:read scope)', true);
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
    sessionStorage.removeItem(KEY_STORAGE);
    $('#api-key').value = '';
    setKeyStatus('Key forgotten');
    keyPresent();
  }

  /* ---------------------------------------------------------------- tabs (WAI-ARIA tabs pattern) */

  const TABS = ['spend', 'usage', 'tasks', 'pricing'];

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

  function loadCurrentTab(force) {
    if (!keyPresent()) return;
    const tab = currentTab();
    if (!force && state.loaded[tab]) return;
    state.loaded[tab] = true;
    ({ spend: loadSpend, usage: loadUsage, tasks: () => loadTasks('first'), pricing: loadPricingTab })[tab]();
  }

  /* ---------------------------------------------------------------- shared controls */

  // Browsers list some zones by ICU's old names; the IANA database links them to these.
  const CURRENT_ZONE_NAMES = {
    'Asia/Calcutta': 'Asia/Kolkata', 'Asia/Katmandu': 'Asia/Kathmandu', 'Asia/Saigon': 'Asia/Ho_Chi_Minh',
    'Asia/Rangoon': 'Asia/Yangon', 'Europe/Kiev': 'Europe/Kyiv', 'America/Godthab': 'America/Nuuk',
    'Atlantic/Faeroe': 'Atlantic/Faroe', 'Pacific/Truk': 'Pacific/Chuuk', 'Pacific/Ponape': 'Pacific/Pohnpei',
    'Pacific/Enderbury': 'Pacific/Kanton', 'America/Buenos_Aires': 'America/Argentina/Buenos_Aires',
    'America/Catamarca': 'America/Argentina/Catamarca', 'America/Cordoba': 'America/Argentina/Cordoba',
    'America/Jujuy': 'America/Argentina/Jujuy', 'America/Mendoza': 'America/Argentina/Mendoza',
    'America/Indianapolis': 'America/Indiana/Indianapolis', 'America/Louisville': 'America/Kentucky/Louisville',
  };

  function fillTimeZones() {
    const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const own = CURRENT_ZONE_NAMES[browserZone] || browserZone;
    let zones = [];
    try { zones = Intl.supportedValuesOf('timeZone').map((zone) => CURRENT_ZONE_NAMES[zone] || zone); } catch { zones = []; }
    const names = ['UTC', ...Array.from(new Set(zones)).filter((zone) => zone !== 'UTC').sort()];
    if (own && !names.includes(own)) names.push(own);
    for (const select of $$('.tz-select')) {
      for (const zone of names) {
        select.append(el('option', { value: zone, text: zone === own && zone !== 'UTC' ? `${zone} (this browser)` : zone }));
      }
      select.value = 'UTC';
    }
  }

  function rememberApps(apps) {
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
    }
    $('#known-apps').replaceChildren(...sorted.map((app) => el('option', { value: app })));
  }

  function nextDay(date) {
    const [year, month, day] = date.split('-').map(Number);
    return new Date(Date.UTC(year, month - 1, day + 1)).toISOString().slice(0, 10);
  }

  /** The window of a section's controls as query parameters (SPEC §7 time windows). */
  function windowParams(prefix) {
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
    params.push(['tz', $(`#${prefix}-tz`).value || 'UTC']);
    for (const option of $(`#${prefix}-app`).selectedOptions) params.push(['app', option.value]);
    return params;
  }

  /** API field names of a section's query → the error slot beside the control that sent it. */
  function windowFields(prefix) {
    return {
      range: `${prefix}-range-error`, start: `${prefix}-start-error`, end: `${prefix}-end-error`,
      tz: `${prefix}-tz-error`, app: `${prefix}-app-error`, bucket: `${prefix}-bucket-error`,
      group_by: `${prefix}-group-error`, status: `${prefix}-status-error`,
      limit: `${prefix}-limit-error`, cursor: `${prefix}-error`,
    };
  }

  function toggleCustom(prefix) {
    const custom = $(`#${prefix}-range`).value === 'custom';
    for (const field of $$(`[data-custom="${prefix}"]`)) field.hidden = !custom;
    if (custom && !$(`#${prefix}-start`).value) {
      const today = new Date();
      const weekAgo = new Date(today.getTime() - 6 * 86400000);
      $(`#${prefix}-start`).value = weekAgo.toISOString().slice(0, 10);
      $(`#${prefix}-end`).value = today.toISOString().slice(0, 10);
    }
  }

  /** Marks a panel as drawn from the answer to a query (tests and screen readers wait on it). */
  function settle(panelId, params, outcome) {
    const panel = document.getElementById(panelId);
    panel.dataset.query = new URLSearchParams(params).toString();
    panel.dataset.state = outcome;
    panel.removeAttribute('aria-busy');
  }

  /** Starts a request for a section; a later one makes earlier answers stale. */
  function begin(section) {
    if (['spend', 'usage', 'tasks'].includes(section)) document.getElementById(`panel-${section}`).setAttribute('aria-busy', 'true');
    state.sequence[section] = (state.sequence[section] || 0) + 1;
    const ticket = state.sequence[section];
    return () => ticket === state.sequence[section];
  }

  function bucketLabel(date, tz) {
    if (!String(date).includes('T')) return String(date);
    const moment = new Date(date);
    if (Number.isNaN(moment.getTime())) return String(date);
    return new Intl.DateTimeFormat('en-GB', {
      timeZone: tz || 'UTC', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    }).format(moment);
  }

  function ensureChart(id, config) {
    if (!window.Chart) return null;
    if (!state.charts[id]) state.charts[id] = new window.Chart(document.getElementById(id), config);
    return state.charts[id];
  }

  /* ---------------------------------------------------------------- Spend */

  async function loadSpend() {
    const prefix = 'spend';
    const fresh = begin(prefix);
    clearErrors($('#panel-spend'));
    $('#spend-note').hidden = true;
    const params = windowParams(prefix);
    const bucket = $('#spend-bucket').value;
    if (bucket) params.push(['bucket', bucket]);
    const groupBy = $('#spend-group').value;
    params.push(['group_by', groupBy]);
    const custom = $('#spend-range').value === 'custom';
    if (custom && !params.some(([name]) => name === 'start')) {
      showError('spend-start-error', 'Choose a start date.');
      settle('panel-spend', params, 'error');
      return;
    }
    $('#spend-refresh').setAttribute('aria-busy', 'true');
    try {
      const data = await api('/usage/breakdown', { params });
      if (!fresh()) return;
      state.windows = data.bucket !== undefined;
      const notes = [];
      // An API from before time windows answers every query as its default range.
      if (data.bucket === undefined && (custom || bucket)) {
        const fields = custom ? ['spend-start-error', 'Custom dates need an API with start/end windows; this one answered its default range.'] : ['spend-bucket-error', 'This API does not take a bucket size yet; it chose one itself.'];
        showError(...fields);
        if (custom) { state.spend = null; renderSpend(null); settle('panel-spend', params, 'error'); return; }
      }
      if (data.tz !== undefined && data.tz !== (params.find(([name]) => name === 'tz') || [])[1]) {
        notes.push(`The API answered in time zone ${data.tz}.`);
      }
      const view = spendView(data, groupBy, params);
      if (view.fallback) {
        showError('spend-group-error', `This API does not group by ${groupBy} yet: showing apps.`);
      }
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
      settle('panel-spend', params, 'ready');
    } catch (error) {
      if (!fresh()) return;
      report(error, 'spend-error', windowFields(prefix));
      state.spend = null;
      renderSpend(null);
      settle('panel-spend', params, 'error');
    } finally {
      if (fresh()) $('#spend-refresh').removeAttribute('aria-busy');
    }
  }

  /** What the Spend tab shows, computed once: the chart, the tables and the CSV all read it. */
  function spendView(data, groupBy, params) {
    const grouped = groupBy !== 'app' && data.timeseries.every((bucket) => bucket.per_group);
    const key = grouped ? 'per_group' : 'per_app';
    const totals = new Map();
    for (const bucket of data.timeseries) {
      for (const [group, cost] of Object.entries(bucket[key] || {})) {
        totals.set(group, (totals.get(group) || 0n) + big(cost));
      }
    }
    const ranked = Array.from(totals.keys()).sort((a, b) => {
      const diff = totals.get(b) - totals.get(a);
      return diff > 0n ? 1 : diff < 0n ? -1 : a.localeCompare(b);
    });
    // One colour per series: beyond the palette, the smallest groups share an "Other" series.
    const room = ranked.length > PALETTE.length ? PALETTE.length - 1 : PALETTE.length;
    const shown = ranked.slice(0, room);
    const merged = ranked.slice(room);
    const series = shown.map((group, index) => ({ name: group, members: [group], colour: PALETTE[index] }));
    if (merged.length) {
      series.push({ name: `Other (${merged.length} ${grouped ? 'groups' : 'apps'})`, members: merged, colour: OTHER_COLOUR });
    }
    const tz = data.tz || (params.find(([name]) => name === 'tz') || [])[1] || 'UTC';
    const buckets = data.timeseries.map((bucket) => ({
      date: bucket.date,
      label: bucketLabel(bucket.date, tz),
      values: series.map((s) => s.members.reduce((sum, member) => sum + big((bucket[key] || {})[member] || 0), 0n)),
    }));
    let shownTotal = 0n;
    for (const bucket of buckets) for (const value of bucket.values) shownTotal += value;
    return {
      data, params, groupBy: grouped ? groupBy : 'app', requestedGroupBy: groupBy,
      fallback: groupBy !== 'app' && !grouped, series, buckets, tz, shownTotal,
    };
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
          legend: { position: 'bottom' },
          tooltip: {
            callbacks: {
              label: (item) => {
                const microcents = item.dataset.microcents[item.dataIndex];
                return `${item.dataset.label}: $${toDollars(microcents)} (${big(microcents).toLocaleString('en-US')} µ¢)`;
              },
              footer: (items) => {
                if (!items.length) return '';
                const bucket = state.spend && state.spend.buckets[items[0].dataIndex];
                if (!bucket) return '';
                const sum = bucket.values.reduce((a, b) => a + b, 0n);
                return `Bucket total: $${toDollars(sum)} (${sum.toLocaleString('en-US')} µ¢)`;
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
        backgroundColor: series.colour,
        borderColor: '#1b1f24',
        borderWidth: 0.5,
      }));
      chart.update();
    }
    cards.total.replaceChildren(money(data.total_cost));
    cards.refunded.replaceChildren(data.refunded_cost === undefined ? el('span', { title: 'This API does not report refunds yet', text: 'n/a' }) : money(data.refunded_cost));
    if (data.trend_percent === undefined || data.trend_percent === null) {
      cards.trend.replaceChildren(el('span', { title: 'No spend in the previous period of equal length', text: '–' }));
    } else {
      const trend = Number(data.trend_percent);
      cards.trend.replaceChildren(`${trend > 0 ? '▲ +' : trend < 0 ? '▼ ' : ''}${trend.toLocaleString('en-US', { maximumFractionDigits: 2 })} %`);
    }
    const bucketName = data.bucket ? ` · ${data.bucket} buckets` : '';
    cards.period.replaceChildren(
      el('span', { text: `${bucketLabel(data.period_start, view.tz)} → ${bucketLabel(data.period_end, view.tz)}` }),
      el('small', { text: ` ${view.tz}${bucketName}` }),
    );
    const groupWord = { app: 'app', fee: 'fee', tier: 'tier' }[view.groupBy];
    $('#spend-chart').setAttribute('aria-label',
      `Stacked bar chart of spend by ${groupWord}: ${view.buckets.length} buckets, ${view.series.length} series, total ${data.total_cost === null ? 'beyond int64' : displayDollars(data.total_cost)}. The same data is in the table below the chart.`);

    $('#top-apps tbody').replaceChildren(...(data.per_model || []).map((row) => el('tr', {},
      el('td', { text: row.app_endpoint }),
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
        el('td', { text: row.group }),
        el('td', { class: 'num', text: Number(row.call_count).toLocaleString('en-US') }),
        el('td', { class: 'num' }, money(row.cost)))));
    }
    if ($('#spend-data').open) renderSpendTable(view);
    else $('#spend-data-table').replaceChildren();
    csv.disabled = false;
  }

  function renderSpendTable(view) {
    if (!view) return;
    const head = el('tr', {}, el('th', { scope: 'col', text: 'Bucket' }),
      ...view.series.map((series) => el('th', { scope: 'col', class: 'num' }, el('span', { class: 'swatch', 'aria-hidden': 'true', 'data-colour': series.colour }), series.name)),
      el('th', { scope: 'col', class: 'num', text: 'Total' }));
    const rows = view.buckets.map((bucket) => el('tr', {}, el('th', { scope: 'row', text: bucket.label }),
      ...bucket.values.map((value) => el('td', { class: 'num' }, money(value))),
      el('td', { class: 'num' }, money(bucket.values.reduce((a, b) => a + b, 0n)))));
    const table = el('table', { class: 'data', id: 'spend-table' }, el('thead', {}, head), el('tbody', {}, ...rows));
    $('#spend-data-table').replaceChildren(table);
    // Colours come from the palette (never from the API), set through the CSSOM: no inline styles.
    for (const swatch of $$('.swatch', table)) swatch.style.background = swatch.dataset.colour;
  }

  /**
   * The CSV of what the chart shows: the server's own CSV of the same breakdown query
   * (format=csv), so the file matches the API and every cell is neutralised by the server's one
   * rule against spreadsheet formulas. Rows are per bucket and app (or group) with spend.
   */
  async function spendCsv(view) {
    return api('/usage/breakdown', { params: [...view.params, ['format', 'csv']], accept: 'text/csv' });
  }

  async function downloadSpendCsv() {
    const view = state.spend;
    if (!view) return;
    let text;
    try {
      text = await spendCsv(view);
    } catch (failure) {
      showError('spend-error', failure.message);
      return;
    }
    const blob = new Blob([text], { type: 'text/csv;charset=utf-8' });
    const link = el('a', { href: URL.createObjectURL(blob), download: spendFileName(view) });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  function spendFileName(view) {
    const part = (name) => ((view.params.find(([key]) => key === name) || [])[1] || '');
    const window = part('range') || `${part('start')}_${part('end')}`;
    return `spend_${window}_${view.groupBy}_${view.tz.replace(/\//g, '-')}.csv`;
  }

  /* ---------------------------------------------------------------- Usage */

  async function loadUsage() {
    const prefix = 'usage';
    const fresh = begin(prefix);
    clearErrors($('#panel-usage'));
    const params = windowParams(prefix);
    if ($('#usage-range').value === 'custom' && state.windows === false) {
      showError('usage-start-error', 'Custom dates need an API with start/end windows; this one would answer its default range.');
      settle('panel-usage', params, 'error');
      return;
    }
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
          chart.data.datasets = [{ label: dimension, data: entries.map(([, seconds]) => Number(seconds)), backgroundColor: entries.map((_, i) => PALETTE[i % PALETTE.length]), borderColor: '#1b1f24', borderWidth: 0.5 }];
          chart.update();
        }
        document.getElementById(id).setAttribute('aria-label', `Usage by ${dimension}: ${entries.map(([name, seconds]) => `${name} ${formatSeconds(seconds)}`).join(', ') || 'none'}`);
        for (const [name, seconds] of entries) rows.push(el('tr', {}, el('td', { text: dimension }), el('td', { text: name }), el('td', { class: 'num', title: `${seconds} s`, text: formatSeconds(seconds) })));
      }
      $('#usage-table tbody').replaceChildren(...rows);
      settle('panel-usage', params, 'ready');
    } catch (error) {
      if (!fresh()) return;
      report(error, 'usage-error', windowFields(prefix));
      settle('panel-usage', params, 'error');
    }
  }

  /* ---------------------------------------------------------------- Tasks */

  function taskParams() {
    const params = windowParams('tasks');
    const status = $('#tasks-status').value;
    if (status) params.push(['status', status]);
    params.push(['limit', $('#tasks-limit').value]);
    return params;
  }

  async function loadTasks(direction) {
    const pages = state.tasks;
    if (direction === 'first') {
      pages.params = taskParams();
      pages.cursors = [null];
      pages.page = 0;
    }
    const target = direction === 'next' ? pages.page + 1 : direction === 'prev' ? pages.page - 1 : 0;
    const cursor = pages.cursors[target];
    if (target < 0 || cursor === undefined) return;
    const fresh = begin('tasks');
    clearErrors($('#tasks-form'));
    showError('tasks-error', '');
    const params = [...pages.params];
    if (cursor) params.push(['cursor', cursor]);
    $('#tasks-prev').disabled = true;
    $('#tasks-next').disabled = true;
    try {
      const data = await api('/usage/tasks', { params });
      if (!fresh()) return;
      pages.available = true;
      $('#tasks-note').hidden = true;
      pages.page = target;
      pages.cursors.length = target + 1;
      if (data.has_more && data.next_cursor) pages.cursors[target + 1] = data.next_cursor;
      renderTasks(data);
      $('#panel-tasks').dataset.page = String(target + 1);
      settle('panel-tasks', params, 'ready');
    } catch (error) {
      if (!fresh()) return;
      if (error instanceof ApiError && error.noSuchRoute) {
        pages.available = false;
        $('#tasks-note').textContent = 'This API has no task list (GET /usage/tasks) yet. Look a task up by its id below.';
        $('#tasks-note').hidden = false;
        $('#tasks-table tbody').replaceChildren();
        $('#tasks-page').textContent = '–';
        settle('panel-tasks', params, 'unavailable');
        return;
      }
      report(error, 'tasks-error', windowFields('tasks'));
      pages.cursors.length = pages.page + 1;
      updatePager(false);
      settle('panel-tasks', params, 'error');
    }
  }

  function updatePager(hasMore) {
    const pages = state.tasks;
    $('#tasks-prev').disabled = pages.page === 0;
    $('#tasks-next').disabled = !hasMore;
    $('#tasks-page').textContent = `Page ${pages.page + 1}${hasMore ? '' : ' (last)'}`;
  }

  function renderTasks(data) {
    const tz = $('#tasks-tz').value || 'UTC';
    const rows = (data.data || []).map((task) => el('tr', { 'data-task-id': task.task_id },
      el('td', { title: task.completed_at, text: bucketLabel(task.completed_at, tz) }),
      el('td', {}, el('button', { type: 'button', class: 'link task-open', 'data-task-id': task.task_id, 'aria-haspopup': 'dialog', text: task.task_id })),
      el('td', { text: task.app }),
      el('td', { text: task.status }),
      el('td', { text: task.billing_status }),
      el('td', { class: 'num' }, money(task.charged ? task.charged.value : 0))));
    if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 6, text: 'No tasks in this window.' })));
    $('#tasks-table tbody').replaceChildren(...rows);
    rememberApps((data.data || []).map((task) => task.app));
    updatePager(Boolean(data.has_more && data.next_cursor));
  }

  async function openTask(taskId, origin) {
    const dialog = $('#task-dialog');
    $('#task-dialog-title').textContent = `Task ${taskId}`;
    $('#task-dialog-body').replaceChildren(el('p', { class: 'status', text: 'Loading…' }));
    showError('task-dialog-error', '');
    if (!dialog.open) dialog.showModal();
    dialog.dataset.origin = origin || '';
    try {
      const cost = await api(`/usage/tasks/${encodeURIComponent(taskId)}/cost`);
      $('#task-dialog-body').replaceChildren(taskCostList(cost));
    } catch (error) {
      $('#task-dialog-body').replaceChildren();
      report(error, 'task-dialog-error');
    }
  }

  function feeItem(label, fee) {
    const items = [el('dt', { text: label })];
    if (!fee) {
      items.push(el('dd', { text: '–' }));
      return items;
    }
    const dd = el('dd', {}, money(fee.value));
    if (fee.error) dd.append(el('span', { class: 'error', text: ` ${fee.error}` }));
    items.push(dd);
    return items;
  }

  function taskCostList(cost) {
    const list = el('dl', { class: 'cost' });
    const plain = (label, value) => list.append(el('dt', { text: label }), el('dd', { text: value === null || value === undefined || value === '' ? '–' : String(value) }));
    plain('App', `${cost.app}${cost.app_version ? ` @ ${cost.app_version}` : ''}`);
    plain('Status', cost.status);
    plain('Billing', cost.billing_status);
    plain('Completed', cost.completed_at);
    for (const [key, label] of [['resource_fee', 'Resource fee'], ['inference_fee', 'Inference fee'], ['royalty_fee', 'Royalty fee'], ['partner_fee', 'Partner fee'], ['total', 'Total'], ['discount', 'Discount']]) {
      list.append(...feeItem(label, cost[key]));
    }
    plain('Discount reason', cost.discount_reason);
    list.append(...feeItem('Charged', cost.charged));
    plain('Refunded', cost.refunded ? `yes${cost.refunded_at ? `, ${cost.refunded_at}` : ''}${cost.refund_reason ? ` (${cost.refund_reason})` : ''}` : 'no');
    plain('Meter', cost.meter);
    list.append(...feeItem('Meter price per hour', cost.meter_price));
    plain('Inference time', cost.inference_time === undefined ? '' : `${formatSeconds(cost.inference_time)} (${cost.inference_time} s billed)`);
    list.append(...feeItem('Inference cost', cost.inference_cost));
    plain('Pricing version', cost.pricing_version === 0 ? '0 (no pricing published: platform defaults)' : cost.pricing_version);
    const errors = Object.entries(cost.errors || {});
    plain('Errors', errors.length ? errors.map(([name, message]) => `${name}: ${message}`).join('; ') : 'none');
    return list;
  }

  /* ---------------------------------------------------------------- Pricing */

  function buildFormulaEditors() {
    const fieldset = $('#formulas');
    for (const [name, label, help] of FORMULAS) {
      const id = `f-${name}`;
      fieldset.append(el('div', { class: 'formula field wide' },
        el('label', { for: id, text: label }),
        el('textarea', { id, rows: name === 'description' ? 2 : 3, spellcheck: 'false', 'data-formula': name, 'aria-describedby': `${id}-help ${id}-error` }),
        el('p', { id: `${id}-help`, class: 'help', text: help }),
        el('p', { id: `${id}-error`, class: 'error', hidden: true })));
    }
  }

  function pricingFields() {
    const fields = { prices: 'prices-error', namespace: 'pricing-app-error', name: 'pricing-app-error', upstream_pricing: 'f-upstream_pricing-error' };
    for (const [name] of FORMULAS) {
      fields[name] = `f-${name}-error`;
      fields[`pricing.${name}`] = `f-${name}-error`;
    }
    fields['pricing.prices'] = 'prices-error';
    for (const name of ['output_meta', 'resources', 'usage_seconds', 'task_inputs', 'body']) fields[name] = 'sample-usage-error';
    return fields;
  }

  function splitApp(value) {
    const match = /^\s*([^/\s]+)\/([^/\s]+)\s*$/.exec(value || '');
    return match ? [match[1], match[2]] : null;
  }

  function loadPricingTab() {
    if (!$('#pricing-app').value && state.apps.size) $('#pricing-app').value = Array.from(state.apps).sort()[0];
    if (!state.apps.size) {
      // Learn the team's apps from its spend, so the picker has something to offer.
      api('/usage/breakdown', { params: [['range', '90d']] }).then((data) => {
        rememberApps(data.models || []);
        if (!$('#pricing-app').value && state.apps.size) {
          $('#pricing-app').value = Array.from(state.apps).sort()[0];
          openPricing();
        }
      }).catch(() => {});
    } else if ($('#pricing-app').value && !state.pricing.view) {
      openPricing();
    }
  }

  async function openPricing() {
    clearErrors($('#panel-pricing'));
    $('#pricing-action-status').textContent = '';
    const parts = splitApp($('#pricing-app').value);
    if (!parts) {
      showError('pricing-app-error', 'Write the app as namespace/name, e.g. team_local/flux-dev.');
      return;
    }
    const fresh = begin('pricing');
    // Nothing can be saved or published while another app loads: the editor shows one app only.
    Object.assign(state.pricing, { app: null, view: null });
    $('#pricing-editor').hidden = true;
    try {
      const view = await api(`/apps/${encodeURIComponent(parts[0])}/${encodeURIComponent(parts[1])}/pricing`);
      if (!fresh()) return;
      state.pricing.app = parts;
      showPricing(view);
      detectBacktest(parts);
    } catch (error) {
      if (!fresh()) return;
      report(error, 'pricing-app-error', pricingFields());
    }
  }

  function showPricing(view) {
    const pricing = state.pricing;
    pricing.view = view;
    pricing.removed = new Set();
    const source = (view.draft && view.draft.pricing) || (view.live && view.live.pricing) || {};
    const versions = [];
    versions.push(view.live ? `Live: version ${view.live.version}, published ${view.live.published_at}` : 'Live: none published');
    versions.push(view.draft ? `Draft: revision ${view.draft.revision}, saved ${view.draft.updated_at}` : 'Draft: none (editing starts from the live pricing)');
    if (Array.isArray(view.scheduled) && view.scheduled.length) versions.push(`Scheduled: ${view.scheduled.map((s) => `v${s.version} at ${s.effective_at}`).join(', ')}`);
    $('#pricing-versions').textContent = `${view.app}: ${versions.join(' · ')}`;
    $('#prices-table tbody').replaceChildren();
    for (const [name, value] of Object.entries(source.prices || {})) addPriceRow(name, value);
    for (const [name] of FORMULAS) $(`#f-${name}`).value = source[name] || '';
    $('#f-upstream_pricing').value = source.upstream_pricing || '';
    if (!$('#sample-usage').value) $('#sample-usage').value = JSON.stringify(SAMPLE_USAGE, null, 2);
    $('#pricing-editor').hidden = false;
    $('#publish-confirm').hidden = true;
    schedulePreview(0);
  }

  function addPriceRow(name = '', value = '') {
    const index = $$('#prices-table tbody tr').length;
    const nameId = `price-name-${index}-${Date.now()}`;
    const row = el('tr', {},
      el('td', {}, el('input', { type: 'text', class: 'price-name', value: name, 'aria-label': 'Price name', id: nameId, spellcheck: 'false', 'data-original': name })),
      el('td', {}, el('input', { type: 'text', inputmode: 'numeric', class: 'price-value', value: String(value), 'aria-label': `Microcents for ${name || 'new price'}` })),
      el('td', { class: 'price-dollars' }),
      el('td', {}, el('button', { type: 'button', class: 'price-remove', 'aria-label': `Remove price ${name || '(new)'}`, text: 'Remove' })));
    $('#prices-table tbody').append(row);
    updatePriceDollars(row);
    return row;
  }

  function updatePriceDollars(row) {
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

  function jsonBody(pricing, extra) {
    // Prices too large for a JS Number travel as their exact digits.
    return Object.assign({ pricing }, extra);
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

  function schedulePreview(delay = 350) {
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

  function goTo(name, line, column) {
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
    const pricing = editorPricing();
    const sample = sampleUsage();
    if (!pricing || !sample) return;
    const fresh = begin('preview');
    for (const [name] of FORMULAS) showError(`f-${name}-error`, '');
    showError('preview-error', '');
    try {
      const result = await api('/usage/cel/evaluate', { method: 'POST', body: { ...sample, pricing } });
      if (!fresh()) return;
      const rows = FEE_COMPONENTS.map(([component, formula, label]) => {
        const fee = result[component] || {};
        if (fee.error) formulaError(formula, fee.error);
        return el('tr', { 'data-component': component },
          el('th', { scope: 'row', text: label }),
          el('td', { class: 'num' }, money(fee.value || 0)),
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
      report(error, 'preview-error', pricingFields());
    }
  }

  async function savePricing() {
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
      const [namespace, name] = pricing.app;
      const view = await api(`/apps/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/pricing`, { method: 'PATCH', body: patch });
      showPricing(view);
      const warnings = Array.isArray(view.warnings) ? view.warnings : [];
      $('#pricing-action-status').textContent = `Draft saved (revision ${view.draft ? view.draft.revision : '?'}).${warnings.length ? ` Warnings: ${warnings.map((w) => (typeof w === 'string' ? w : w.message || JSON.stringify(w))).join('; ')}` : ''}`;
    } catch (error) {
      if (error instanceof ApiError) {
        for (const issue of error.fields) {
          const field = String(issue.field || '');
          const formula = field.replace(/^pricing\./, '');
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

  async function publishPricing() {
    const pricing = state.pricing;
    if (!pricing.app) return;
    $('#publish-confirm').hidden = true;
    clearErrors($('#pricing-editor'));
    try {
      const [namespace, name] = pricing.app;
      const view = await api(`/apps/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/pricing/publish`, { method: 'POST' });
      showPricing(view);
      $('#pricing-action-status').textContent = `Published: live version ${view.live ? view.live.version : '?'}.`;
    } catch (error) {
      report(error, 'pricing-action-error', pricingFields());
    }
  }

  /** The backtest route exists once the API has it (SPEC §7); until then its button stays hidden. */
  async function detectBacktest([namespace, name]) {
    const button = $('#pricing-backtest');
    button.hidden = true;
    delete button.dataset.probed;
    try {
      // One task re-priced with an empty pricing: cheap, writes nothing, and answers 200 where
      // the route exists (404 where it does not).
      await api(`/apps/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/pricing/backtest?limit=1`, { method: 'POST', body: { pricing: {} } });
      button.hidden = false;
    } catch (error) {
      // No such route, or not this caller's to backtest (another namespace is a 403).
      button.hidden = error instanceof ApiError && (error.noSuchRoute || error.status === 405 || error.status === 403);
    } finally {
      button.dataset.probed = 'yes';
    }
  }

  async function runBacktest() {
    const pricing = editorPricing();
    if (!pricing || !state.pricing.app) return;
    clearErrors($('#pricing-editor'));
    const [namespace, name] = state.pricing.app;
    const section = $('#backtest-result');
    try {
      const result = await api(`/apps/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/pricing/backtest`, { method: 'POST', body: jsonBody(pricing) });
      section.hidden = false;
      $('#backtest-body').replaceChildren(backtestView(result));
    } catch (error) {
      report(error, 'pricing-action-error', pricingFields());
    }
  }

  function backtestView(result) {
    const wrap = el('div');
    const summary = el('dl', { class: 'cost' },
      el('dt', { text: 'Tasks re-priced' }), el('dd', { text: `${result.tasks}${result.truncated ? ' (truncated at the limit)' : ''}` }),
      el('dt', { text: 'Charged now' }), el('dd', {}, money(result.current ? result.current.charged.value : 0)),
      el('dt', { text: 'Charged with this pricing' }), el('dd', {}, money(result.proposed ? result.proposed.charged.value : 0)),
      el('dt', { text: 'Difference' }), el('dd', {}, money(result.difference ? result.difference.value : 0), result.difference_percent === undefined || result.difference_percent === null ? '' : ` (${result.difference_percent} %)`),
      el('dt', { text: 'Errors' }), el('dd', { text: String(result.errors ? result.errors.count : 0) }));
    wrap.append(summary);
    const perFee = Object.entries(result.per_fee || {});
    if (perFee.length) {
      wrap.append(el('table', { class: 'data' },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Fee' }), el('th', { scope: 'col', class: 'num', text: 'Now' }), el('th', { scope: 'col', class: 'num', text: 'Proposed' }))),
        el('tbody', {}, ...perFee.map(([fee, value]) => el('tr', {}, el('th', { scope: 'row', text: fee }), el('td', { class: 'num' }, money(value.current.value)), el('td', { class: 'num' }, money(value.proposed.value)))))));
    }
    const examples = result.examples || [];
    if (examples.length) {
      wrap.append(el('h4', { text: 'Largest differences' }), el('table', { class: 'data' },
        el('thead', {}, el('tr', {}, ...['Task', 'Completed', 'Now', 'Proposed'].map((text) => el('th', { scope: 'col', text })))),
        el('tbody', {}, ...examples.map((example) => el('tr', {}, el('td', { text: example.task_id }), el('td', { text: example.completed_at }), el('td', { class: 'num' }, money(example.current.value)), el('td', { class: 'num' }, money(example.proposed.value)))))));
    }
    return wrap;
  }

  /* ---------------------------------------------------------------- wiring */

  function onControlsChange(prefix, load) {
    const form = $(`#${prefix}-form`);
    form.addEventListener('submit', (event) => { event.preventDefault(); if (keyPresent()) load(); });
    form.addEventListener('change', (event) => {
      if (event.target.id === `${prefix}-range`) toggleCustom(prefix);
      if (keyPresent()) load();
    });
  }

  function start() {
    fillTimeZones();
    buildFormulaEditors();
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
    $('#publish-yes').addEventListener('click', publishPricing);
    $('#publish-no').addEventListener('click', () => { $('#publish-confirm').hidden = true; $('#pricing-publish').focus(); });
    $('#pricing-backtest').addEventListener('click', runBacktest);

    const hash = window.location.hash.slice(1);
    keyPresent();
    if (state.key) setKeyStatus('Using the key saved in this tab');
    selectTab(TABS.includes(hash) ? hash : 'spend', false);
  }

  // For tests and the curious: the state the page draws from (read-only use intended).
  window.dashboard = { state, spendCsv: () => (state.spend ? spendCsv(state.spend) : Promise.resolve('')) };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
