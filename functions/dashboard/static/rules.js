/* The server's rules (fee components, windows, time zones, limits, money), served by the
 * dashboard function from the layer's own constants (functions/dashboard/app.py, rules()), so
 * this page never spells one itself. Loaded once, before the page starts. */

async function load() {
  const response = await fetch('/dashboard/rules.json', { credentials: 'omit', cache: 'no-cache' });
  if (!response.ok) throw new Error(`the page's rules did not load (HTTP ${response.status})`);
  return response.json();
}

export const rules = await load();

/** A fee component's label as people read it: "Resource fee", "Total". */
export function feeLabel(component) {
  const name = component.name.charAt(0).toUpperCase() + component.name.slice(1);
  return component.is_total ? name : `${name} fee`;
}
