// The header: title, live counters, the connection light and the language switch. It only shows
// numbers it is given; counting belongs to the layers that own the data.
import type { SessionUser } from './api-client.js';
import { escapeHtml } from './html.js';
import { applyStaticText, lang, setLang, t, tk } from './i18n.js';

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
  private readonly userBox = byId('user-box');
  private link: LinkState = 'connecting';
  private user: SessionUser | null = null;

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

  /** Who is signed in, their role and scope, and the sign-out button (nothing when auth is off). */
  setUser(user: SessionUser | null, onLogout: () => void): void {
    this.user = user;
    this.userBox.hidden = user === null;
    this.userBox.onclick = (e) => {
      if ((e.target as HTMLElement).closest('[data-action="logout"]')) onLogout();
    };
    this.renderUser();
  }

  private renderUser(): void {
    const u = this.user;
    if (!u) return;
    this.userBox.innerHTML = `<span class="user-name">${escapeHtml(u.displayName)}</span>
      <span class="user-role role-${escapeHtml(u.role)}">${escapeHtml(tk('role', u.role))}</span>
      <span class="user-scope" data-scope="${escapeHtml(u.scope)}">${escapeHtml(u.scopeName ?? u.scope)}</span>
      <button type="button" data-action="logout">${escapeHtml(t('signOut'))}</button>`;
  }

  /** Re-applies every static label after a language switch. */
  relabel(): void {
    applyStaticText(document);
    this.langButton.textContent = t('switchLang');
    this.setLink(this.link);
    this.renderUser();
  }
}

/** Skips unchanged values: the counters refresh every push and layout churn adds up on a wall. */
function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}
