/* API errors beside their cause: 401 beside the key, each field of a 400 beside its control,
 * transient failures (timeout, network, 503, an answer that is not JSON) as one short sentence
 * with a retry, the rest beside the action. */

import { ApiError, showTransient } from './api.js';
import { $, showError } from './dom.js';

export function setKeyStatus(text, ok) {
  const status = $('#key-status');
  status.textContent = text;
  status.classList.toggle('ok', Boolean(ok));
}

/**
 * fields maps an API field name (or its first dotted parts) to an error slot id; retry, when
 * given, is offered for a transient failure (automatically after a 503's Retry-After), and
 * current() says whether the request is still the latest of its section.
 */
export function report(error, fallback, fields = {}, retry = null, current = () => true) {
  if (!(error instanceof ApiError)) {
    showError(fallback, `Unexpected error: ${error && error.message ? error.message : error}`);
    return;
  }
  if (error.transient || error.kind === 'not-json') {
    if (retry) showTransient(fallback, error, retry, current);
    else showError(fallback, error.status === 503 ? `Storage unavailable (503): ${error.message}.` : `Error${error.status ? ` (${error.status})` : ''}: ${error.message}.`);
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
      const prior = !target.hidden ? `${target.textContent}\n` : '';
      showError(slot, `${prior}${field}: ${issue.message}`);
      placed.add(issue);
    }
  }
  const rest = error.fields.filter((issue) => !placed.has(issue));
  const prefix = error.status === 403 ? 'Forbidden (403)' : `${error.problem.title || 'Error'} (${error.status})`;
  if (!placed.size || rest.length) {
    const details = rest.map((issue) => `${issue.field}: ${issue.message}`).join('\n');
    showError(fallback, `${prefix}: ${error.message}${details && !error.message.includes(details) ? `\n${details}` : ''}`);
  }
}
