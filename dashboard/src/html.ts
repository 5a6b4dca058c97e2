// Names come from devices and operators; anything put into innerHTML (Leaflet tooltips and
// divIcons take HTML strings) goes through here first.
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const lastHtml = new WeakMap<Element, string>();
/** Sets innerHTML only when it changed: panels re-render every second for their clocks. */
export function setHtml(el: Element, html: string): void {
  if (lastHtml.get(el) === html) return;
  lastHtml.set(el, html);
  el.innerHTML = html;
}
