// The header: title, live counters, the connection light and the language switch. It only shows
// numbers it is given; counting belongs to the layers that own the data.
import { applyStaticText, lang, setLang, t } from './i18n.js';

export type LinkState = 'connected' | 'connecting' | 'disconnected';

export interface HeaderCounts {
  online: number;
  total: number;
  onDuty: number;
  alertsToday: number;
}

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html lacks #${id}`);
  return el as T;
}

export class HeaderBar {
  private readonly online = byId('count-online');
  private readonly total = byId('count-total');
  private readonly onDuty = byId('count-onduty');
  private readonly alerts = byId('count-alerts');
  private readonly light = byId('link-light');
  private readonly linkText = byId('link-text');
  private readonly langButton = byId<HTMLButtonElement>('lang-switch');
  private link: LinkState = 'connecting';

  constructor() {
    this.langButton.addEventListener('click', () => setLang(lang() === 'zh' ? 'en' : 'zh'));
    this.relabel();
  }

  setCounts(c: HeaderCounts): void {
    setText(this.online, String(c.online));
    setText(this.total, String(c.total));
    setText(this.onDuty, String(c.onDuty));
    setText(this.alerts, String(c.alertsToday));
  }

  setLink(state: LinkState): void {
    this.link = state;
    this.light.className = `light ${state}`;
    this.linkText.textContent = t(state);
  }

  /** Re-applies every static label after a language switch. */
  relabel(): void {
    applyStaticText(document);
    this.langButton.textContent = t('switchLang');
    this.setLink(this.link);
  }
}

/** Skips unchanged values: the counters refresh every push and layout churn adds up on a wall. */
function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}
