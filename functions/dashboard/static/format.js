/* The page's one money formatter, one time formatter and one colour rule.
 *
 * Money: the server's `dollars` string wherever the API gives one ({value, dollars}); a figure
 * the page adds up itself (a bucket, a merged series) is written by toDollars, which is the
 * server's to_dollars (usage_pricing.money: at least 2, at most 8 decimals, exact; a browser test
 * holds the two to the same output). Every amount is shown the same way, "$" + dollars, with
 * the exact microcents on hover.
 *
 * Times: every instant is shown in the zone chosen on the page (one choice for every tab).
 *
 * Colours: one per name, from a colour-blind-safe palette (below). */

import { el } from './dom.js';
import { rules } from './rules.js';
import { state } from './state.js';

const PER_DOLLAR = BigInt(rules.money.microcents_per_dollar);

export function big(value) {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return BigInt(Math.trunc(value));
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return 0n;
}

/** The server's to_dollars, for sums the page makes itself. */
export function toDollars(microcents) {
  let value = big(microcents);
  const negative = value < 0n;
  if (negative) value = -value;
  const whole = value / PER_DOLLAR;
  const digits = String(PER_DOLLAR).length - 1;
  let fraction = (value % PER_DOLLAR).toString().padStart(digits, '0').replace(/0+$/, '');
  if (fraction.length < 2) fraction = fraction.padEnd(2, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/** A money figure as the API gives it: {value, dollars} (a fee view), or bare microcents. */
function parts(figure) {
  if (figure !== null && typeof figure === 'object' && !(typeof figure === 'bigint')) {
    const value = big(figure.value);
    return { value, dollars: typeof figure.dollars === 'string' ? figure.dollars : toDollars(value) };
  }
  return { value: big(figure), dollars: toDollars(figure) };
}

/** "$" and the dollars, the sign before the "$" ("-$0.25", never "$-0.25": a budget's remaining
 * or a refund can be negative). */
function withSign(dollars) {
  return dollars.startsWith('-') ? `-$${dollars.slice(1)}` : `$${dollars}`;
}

export function dollarsText(figure) {
  return withSign(parts(figure).dollars);
}

/** A money element: dollars shown, the exact microcents on hover and to assistive tech. */
export function money(figure) {
  if (figure === null || figure === undefined) {
    // The API answers null for a figure beyond int64 and names it under `errors`.
    const text = figure === null ? 'overflow' : '–';
    return el('span', { class: 'no-figure', title: figure === null ? 'Beyond int64: see the errors the API reported' : 'Not reported', text });
  }
  const { value, dollars } = parts(figure);
  const element = document.createElement('data');
  element.className = 'money';
  element.value = value.toString();
  const text = withSign(dollars);
  element.textContent = text;
  element.title = `${text} exactly = ${value.toLocaleString('en-US')} microcents`;
  element.setAttribute('aria-label', `${text} (${value.toLocaleString('en-US')} microcents)`);
  return element;
}

export function formatSeconds(total) {
  let seconds = Number(total);
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  if (hours) return `${hours.toLocaleString('en-US')} h ${String(minutes).padStart(2, '0')} min`;
  if (minutes) return `${minutes} min ${String(seconds).padStart(2, '0')} s`;
  return `${seconds} s`;
}

const formatters = new Map();

function formatter(tz, compact) {
  const key = `${tz}|${compact}`;
  if (!formatters.has(key)) {
    formatters.set(key, new Intl.DateTimeFormat('en-GB', compact
      ? { timeZone: tz, month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
      : { timeZone: tz, year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }));
  }
  return formatters.get(key);
}

/** An instant (RFC 3339) in the chosen zone: "2 Dec 2026, 14:05:00 UTC". A date alone (a day
 * bucket) stays the date it is. `compact` drops the year, seconds and zone (chart axes). */
export function formatTime(iso, { compact = false, tz = state.tz } = {}) {
  if (iso === null || iso === undefined || iso === '') return '–';
  if (!String(iso).includes('T')) return String(iso);
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return String(iso);
  const text = formatter(tz, compact).format(moment);
  return compact ? text : `${text} ${tz}`;
}

/** A time element: the formatted instant, the API's exact text on hover. */
export function time(iso) {
  return el('time', { datetime: iso || undefined, title: iso || undefined, text: formatTime(iso) });
}

/** The UTC offset of a zone at an instant, in minutes. */
function offsetMinutes(tz, epochMs) {
  const fields = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(epochMs)).map((part) => [part.type, part.value]));
  const asUtc = Date.UTC(Number(fields.year), Number(fields.month) - 1, Number(fields.day), Number(fields.hour) % 24, Number(fields.minute), Number(fields.second));
  return Math.round((asUtc - Math.floor(epochMs / 1000) * 1000) / 60000);
}

/**
 * A wall-clock date-time ("2026-12-24T09:30" from <input type=datetime-local>) in a zone, as a
 * UTC instant (RFC 3339, Z). Null when that wall time does not exist there (clocks jumped over
 * it); where it happens twice (clocks went back), the earlier one.
 */
export function zonedToUtc(local, tz) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local || '');
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s || 0));
  const candidates = new Set();
  for (const probe of [wall - 86400000, wall, wall + 86400000]) {
    const guess = wall - offsetMinutes(tz, probe) * 60000;
    if (guess + offsetMinutes(tz, guess) * 60000 === wall) candidates.add(guess);
  }
  if (!candidates.size) return null;
  return new Date(Math.min(...candidates)).toISOString().replace('.000Z', 'Z');
}

/*
 * Colours: Okabe and Ito's eight ("Color Universal Design", 2008), chosen so that they stay apart
 * for the common colour-vision deficiencies (red-green, blue-yellow) and in grey print. A name's
 * own colour is a slot of that palette, from its hash (FNV-1a over its UTF-16 units): it is the
 * same in every view, tab and reload, whatever the name's rank. One chart never shows two series
 * in one colour: its names are taken in code-unit order and a name whose slot an earlier name
 * holds takes the next free slot. Beyond eight names the palette starts again with a hatched fill
 * (round 1, 2, …), so a colour is never the only difference between two series.
 */
export const PALETTE = ['#E69F00', '#56B4E9', '#009E73', '#F0E442', '#0072B2', '#D55E00', '#CC79A7', '#000000'];
// Everything merged into "Other": a grey that is none of the palette's.
export const OTHER_COLOUR = '#999999';

function slotOf(name) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i += 1) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % PALETTE.length;
}

/** A name's own colour (its slot), before any clash in a chart moves it. */
export function colourFor(name) {
  return PALETTE[slotOf(String(name))];
}

/** The looks of the series one chart shows: name → {colour, round} (round 0 is a plain fill,
 * round n the n-th hatch), no two names alike. */
export function seriesLooks(names) {
  const rounds = [];
  const looks = new Map();
  for (const name of Array.from(new Set(names.map(String))).sort()) {
    let round = 0;
    while (rounds[round] && rounds[round].size === PALETTE.length) round += 1;
    if (!rounds[round]) rounds[round] = new Set();
    let slot = slotOf(name);
    while (rounds[round].has(slot)) slot = (slot + 1) % PALETTE.length;
    rounds[round].add(slot);
    looks.set(name, { colour: PALETTE[slot], round });
  }
  return looks;
}

const HATCH_ANGLES = [45, -45, 0, 90];

/** A look as a CSS background (swatches): the colour, hatched from round 1 on. */
export function cssFill({ colour, round }) {
  if (!round) return colour;
  const angle = HATCH_ANGLES[(round - 1) % HATCH_ANGLES.length];
  return `repeating-linear-gradient(${angle}deg, ${colour} 0 4px, #ffffff 4px 6px)`;
}

const patterns = new Map();

/** A look as a Chart.js fill: the colour, or from round 1 on a hatched canvas pattern. */
export function chartFill({ colour, round }) {
  if (!round) return colour;
  const key = `${colour}|${round}`;
  if (!patterns.has(key)) {
    const tile = document.createElement('canvas');
    tile.width = 8;
    tile.height = 8;
    const context = tile.getContext('2d');
    context.fillStyle = colour;
    context.fillRect(0, 0, 8, 8);
    context.strokeStyle = '#ffffff';
    context.lineWidth = 2;
    context.beginPath();
    const angle = HATCH_ANGLES[(round - 1) % HATCH_ANGLES.length];
    if (angle === 45) { context.moveTo(0, 8); context.lineTo(8, 0); } else if (angle === -45) { context.moveTo(0, 0); context.lineTo(8, 8); } else if (angle === 0) { context.moveTo(0, 4); context.lineTo(8, 4); } else { context.moveTo(4, 0); context.lineTo(4, 8); }
    context.stroke();
    patterns.set(key, context.createPattern(tile, 'repeat'));
  }
  return patterns.get(key);
}

/** JSON with integers beyond 2^53 kept exact (as BigInt) where the browser exposes source text. */
export function parseJson(text) {
  return JSON.parse(text, (key, value, context) => {
    if (typeof value === 'number' && !Number.isSafeInteger(value) && context && /^-?\d+$/.test(context.source)) {
      return BigInt(context.source);
    }
    return value;
  });
}
