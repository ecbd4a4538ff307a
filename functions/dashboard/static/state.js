/* The state the page draws from, shared by its modules (window.dashboard.state for tests). */

export const KEY_STORAGE = 'usage-pricing.api-key';
export const ZONE_STORAGE = 'usage-pricing.time-zone';

export const state = {
  key: sessionStorage.getItem(KEY_STORAGE) || '',
  tz: sessionStorage.getItem(ZONE_STORAGE) || 'UTC',
  // What the key may do (GET /keys/current: team_id, namespace, scopes, grants); null until known.
  access: null,
  apps: new Set(),
  charts: {},
  spend: null,
  loaded: {},
  sequence: {},
  tasks: { cursors: [null], page: 0, params: null, available: true, shownParams: null },
  pricing: { app: null, view: null, removed: new Set(), previewTimer: 0, writable: false },
  budgets: { writable: false, list: null },
};

/** Starts a request for a section; a later one makes earlier answers stale. */
export function begin(section) {
  state.sequence[section] = (state.sequence[section] || 0) + 1;
  const ticket = state.sequence[section];
  return () => ticket === state.sequence[section];
}
