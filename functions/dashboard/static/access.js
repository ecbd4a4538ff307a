/* What the key may do, as the API states it: GET /keys/current answers the key's team, the
 * namespace whose apps apps:write edits, and the route scopes it grants (docs/api.md, "Keys,
 * scopes and versions"). The page asks once per key and shows or hides from that answer; it never
 * tries an action to find out. Until the answer is in, nothing loads (state.access is null). */

import { state } from './state.js';

// The scope each tab's data needs (the routes' own declarations, docs/api.md's route table).
export const TAB_SCOPES = { spend: 'billing:read', usage: 'billing:read', tasks: 'billing:read', pricing: 'apps:read', budgets: 'billing:read' };
const TAB_NAMES = { spend: 'Spend', usage: 'Usage', tasks: 'Tasks', pricing: 'Pricing', budgets: 'Budgets' };

export function grants(scope) {
  return Boolean(state.access && state.access.grants.includes(scope));
}

/** Why a tab cannot show its data with this key, or '' when it can. */
export function tabBlocked(tab) {
  const scope = TAB_SCOPES[tab];
  if (!scope || grants(scope)) return '';
  const lookup = tab === 'tasks' && grants('apps:read') ? ' A task can still be looked up by its id below.' : '';
  return `This API key lacks the ${scope} scope, which the ${TAB_NAMES[tab]} tab needs: ask your team's admin for a key with ${scope}.${lookup}`;
}

/** Whether this key may save, publish, schedule, cancel and backtest the app in `namespace`;
 * when not, the reason in plain words. */
export function pricingWrite(namespace) {
  if (!grants('apps:write')) {
    return { writable: false, reason: 'Read-only: this API key lacks the apps:write scope. Saving, publishing, scheduling, cancelling scheduled versions and backtesting need it; the editor still previews.' };
  }
  if (namespace !== state.access.namespace) {
    return { writable: false, reason: `Read-only: apps in another team's namespace are read-only. ${namespace} is not this key's namespace (it edits the apps of ${state.access.namespace}); the editor still previews.` };
  }
  return { writable: true, reason: '' };
}

/** Whether this key may create, change and delete budgets; when not, why. */
export function budgetWrite() {
  if (grants('billing:write')) return { writable: true, reason: '' };
  return { writable: false, reason: 'Read-only: this API key lacks the billing:write scope, which creating, changing and deleting budgets need.' };
}
