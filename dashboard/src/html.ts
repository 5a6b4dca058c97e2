// Names come from devices and operators; anything put into innerHTML (Leaflet tooltips and
// divIcons take HTML strings) goes through here first.
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
