/* The page's calls to the API: one timeout for every request, errors typed by what went wrong
 * (the API's problem, a timeout, no network, storage unavailable, an answer that is not JSON),
 * and the one way a failure is shown: a short sentence, a Retry button where retrying can help,
 * and an automatic retry after the server's Retry-After. */

import { el, showError } from './dom.js';
import { parseJson } from './format.js';
import { state } from './state.js';

// How long a request may take before the page gives up on it and offers a retry. A choice of
// the page (the API has its own gateway timeout); tests shorten it with DASHBOARD_TIMEOUT_MS.
export const TIMEOUT_MS = Number(window.DASHBOARD_TIMEOUT_MS) || 20000;

export class ApiError extends Error {
  constructor(status, problem, url, { kind = 'problem', retryAfter = null } = {}) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.url = url;
    this.kind = kind; // problem | timeout | network | not-json
    this.retryAfter = retryAfter; // seconds, from a 503's Retry-After
    this.fields = Array.isArray(problem.errors) ? problem.errors : [];
  }

  /** Not the request's fault: worth trying again as it is. */
  get transient() {
    return this.kind === 'timeout' || this.kind === 'network' || this.status === 503;
  }
}

function retryAfterSeconds(header) {
  if (!header) return null;
  if (/^\d{1,6}$/.test(header.trim())) return Number(header.trim());
  const when = Date.parse(header);
  return Number.isNaN(when) ? null : Math.max(0, Math.ceil((when - Date.now()) / 1000));
}

export async function api(path, { method = 'GET', params = [], body, accept } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of params) url.searchParams.append(name, value);
  const headers = { Authorization: `Bearer ${state.key}`, 'X-API-Version': '2' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (accept) headers.Accept = accept;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  let response;
  let text;
  try {
    response = await fetch(url, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer', signal: controller.signal,
    });
    text = await response.text();
  } catch (failure) {
    if (controller.signal.aborted) {
      throw new ApiError(0, { title: 'Timeout', detail: `the API did not answer within ${Math.round(TIMEOUT_MS / 1000)} s` }, url, { kind: 'timeout' });
    }
    throw new ApiError(0, { title: 'Network error', detail: 'cannot reach the API' }, url, { kind: 'network' });
  } finally {
    clearTimeout(timer);
  }
  const type = (response.headers.get('content-type') || '').toLowerCase();
  if (!response.ok) {
    const retryAfter = response.status === 503 ? retryAfterSeconds(response.headers.get('retry-after')) : null;
    let problem = null;
    if (type.includes('json')) {
      try { problem = parseJson(text); } catch { problem = null; }
    }
    if (!problem || typeof problem !== 'object' || Array.isArray(problem)) {
      // Never the body itself: an HTML error page is markup, not a message.
      const what = type.split(';')[0].trim() || 'no content type';
      problem = { title: response.statusText || `HTTP ${response.status}`, detail: `the API answered HTTP ${response.status} with ${what}, not a problem report` };
      throw new ApiError(response.status, problem, url, { kind: 'not-json', retryAfter });
    }
    throw new ApiError(response.status, problem, url, { retryAfter });
  }
  if (type.includes('json')) {
    try {
      return parseJson(text);
    } catch {
      throw new ApiError(response.status, { title: 'Bad answer', detail: 'the API answered with JSON the page cannot read' }, url, { kind: 'not-json' });
    }
  }
  return text;
}

/** One sentence for a transient failure, or null for an answer about the request itself. */
export function transientMessage(error) {
  if (!(error instanceof ApiError)) return null;
  if (error.kind === 'timeout') return `Timed out: ${error.message}.`;
  if (error.kind === 'network') return 'Network error: cannot reach the API.';
  if (error.status === 503) return 'Storage unavailable';
  if (error.kind === 'not-json') return `Error (${error.status}): ${error.message}.`;
  return null;
}

const timers = new Map();

/** Cancels a pending automatic retry shown in a slot. */
export function cancelRetry(slotId) {
  clearTimeout(timers.get(slotId));
  timers.delete(slotId);
}

/**
 * Shows a transient failure in a slot and offers the way out: after a 503 with Retry-After,
 * "Storage unavailable, retrying in N s" counting down and then the retry; otherwise a Retry
 * button. `current()` is false once another request has replaced this one (no stale retry).
 * `write(text)` puts the sentence in the slot (default: the slot's error text).
 */
export function showTransient(slotId, error, retry, current = () => true, write = (text) => showError(slotId, text)) {
  cancelRetry(slotId);
  const message = transientMessage(error);
  const slot = document.getElementById(slotId);
  if (error.status === 503 && error.retryAfter !== null) {
    let left = error.retryAfter;
    const tick = () => {
      if (!current()) return;
      if (left <= 0) {
        timers.delete(slotId);
        write('Storage unavailable, retrying now…');
        retry();
        return;
      }
      write(`Storage unavailable, retrying in ${left} s`);
      if (slot) slot.dataset.retryIn = String(left);
      left -= 1;
      timers.set(slotId, setTimeout(tick, 1000));
    };
    tick();
    return;
  }
  write(error.status === 503 ? `Storage unavailable (503): ${error.message}.` : message);
  if (slot) {
    const button = el('button', { type: 'button', class: 'retry', text: 'Retry' });
    button.addEventListener('click', () => { cancelRetry(slotId); retry(); });
    slot.append(' ', button);
  }
}
