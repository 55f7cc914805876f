// Small DOM helpers. Data from the API is only ever put into the page as text (textContent), never
// as HTML, so a device name or alert summary cannot inject markup.

/**
 * h('div.row.ok', { dataset: { id: 'x' }, onclick }, child, 'text', …): an element with classes,
 * properties/attributes and children (strings become text nodes; null/false are skipped).
 */
export function h(tag, props, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'text') el.textContent = String(v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k in el && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Sets textContent only when it changed (avoids needless layout work on every frame). */
export function setText(el, text) {
  const s = String(text);
  if (el.textContent !== s) el.textContent = s;
}

export function setData(el, key, value) {
  const s = String(value);
  if (el.dataset[key] !== s) el.dataset[key] = s;
}

export const $ = (sel, root = document) => root.querySelector(sel);

const nf = new Intl.NumberFormat('en-US');
export const num = (n) => (n === null || n === undefined ? '–' : nf.format(n));

export const pad2 = (n) => String(n).padStart(2, '0');

/** 12:03:07 local time. */
export function clock(ms) {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** A duration as 1d 02:03:04, 02:03:04 or 03:04 (for countdowns). */
export function countdown(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const hms = hh > 0 || d > 0 ? `${pad2(hh)}:${pad2(mm)}:${pad2(ss)}` : `${pad2(mm)}:${pad2(ss)}`;
  return d > 0 ? `${d}d ${hms}` : hms;
}

/** How long ago: 5s, 3m, 2h, 4d. */
export function ago(ms, now = Date.now()) {
  if (!ms) return '–';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** Calls fn at most once per `ms`: at once when idle, else once at the end of the window. */
export function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  return () => {
    const wait = last + ms - Date.now();
    if (wait <= 0 && timer === null) {
      last = Date.now();
      fn();
    } else if (timer === null) {
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        fn();
      }, Math.max(0, wait));
    }
  };
}
