// Who is asking: turns a session token (cookie or bearer) into a viewer with a scope. Shared by the
// HTTP auth plugin and the Socket.IO handshake (hub/live/live-push.ts), so both apply one rule.
import type pg from 'pg';
import { ALL_SCOPE, RegionScopes, type RegionLookup } from './region-scope.js';
import { UserStore, type PublicUser } from './user-store.js';

export const SESSION_COOKIE = 'grid_session';

export interface AuthSettings {
  /** AUTH_REQUIRED: without a session, /api/* and /live refuse. Off: anonymous screens see all. */
  required: boolean;
  /** SESSION_TTL_MIN */
  sessionTtlMin: number;
}

export interface Viewer {
  user: PublicUser | null;
  /** A region code, or ALL_SCOPE for an anonymous screen when auth is off. */
  scope: string;
  /** The session's token (server side only: never sent back to the page). */
  token: string | null;
  expiresAt: number | null;
}

/** Reads one cookie from a Cookie header; no dependency for one name. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** The token of a request: a bearer header wins over the cookie (tools over browsers). */
export function tokenFrom(headers: { authorization?: string | undefined; cookie?: string | undefined }, extra?: unknown): string | null {
  const auth = headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim() || null;
  if (typeof extra === 'string' && extra !== '') return extra;
  return readCookie(headers.cookie, SESSION_COOKIE);
}

export class AuthService {
  readonly users: UserStore;
  readonly scopes: RegionScopes;
  readonly ttlMs: number;
  private readonly endListeners = new Set<(token: string) => void>();

  /** `regions`: the hub's region directory, loaded by its owner (the hub, or a test) before use. */
  constructor(
    pool: Pick<pg.Pool, 'query'>,
    regions: RegionLookup,
    readonly settings: AuthSettings,
    readonly now: () => number = Date.now,
  ) {
    this.users = new UserStore(pool, now);
    this.scopes = new RegionScopes(regions);
    this.ttlMs = settings.sessionTtlMin * 60_000;
  }

  /** The viewer for a token; null means "refuse" (auth required and no live session). */
  async identify(token: string | null): Promise<Viewer | null> {
    const session = token === null ? null : await this.users.sessionUser(token);
    if (session) return { user: session.user, scope: session.user.scope, token, expiresAt: session.expiresAt };
    if (this.settings.required) return null;
    return { user: null, scope: ALL_SCOPE, token: null, expiresAt: null };
  }

  /** Live links of this session close when it ends (logout). */
  onSessionEnd(fn: (token: string) => void): void {
    this.endListeners.add(fn);
  }

  async endSession(token: string): Promise<void> {
    await this.users.deleteSession(token);
    for (const fn of this.endListeners) fn(token);
  }
}
