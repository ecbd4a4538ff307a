/* DOM helpers of the dashboard: element building (text only, never markup), and error slots
 * beside the control that caused them. */

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

/** An element with attributes and children; text is always text (textContent), never HTML. */
export function el(tag, attributes = {}, ...children) {
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

/** Shows (or, with an empty message, hides) an error slot and marks the control it describes. */
export function showError(id, message) {
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

export function clearErrors(root) {
  for (const slot of $$('.error', root)) {
    slot.textContent = '';
    slot.hidden = true;
  }
  for (const control of $$('[aria-invalid]', root)) control.removeAttribute('aria-invalid');
}

/** A table that scrolls inside its own box on a narrow screen instead of widening the page. */
export function scrollTable(table) {
  return el('div', { class: 'table-wrap' }, table);
}
