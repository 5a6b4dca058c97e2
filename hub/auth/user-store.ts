// Command-screen users and sessions in the database (storage/migrations/020_users.sql). Passwords
// are scrypt hashes (common/secrets.ts); a session token is 256 random bits that only the browser
// holds; the table keeps its SHA-256, so reading the table logs nobody in.
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { hashSecret, verifySecret } from '../../common/secrets.js';

import { USER_ROLES } from '../../protocol/hub-api.js';

export { USER_ROLES };
export type UserRole = (typeof USER_ROLES)[number];

/** What the page may know about its user: never the hash, never the token. */
export interface PublicUser {
  id: string;
  username: string;
  displayName: string;
  role: UserRole;
  scope: string;
  scopeName: string | null;
  scopeLevel: string | null;
}

export interface NewUser {
  id: string;
  username: string;
  displayName: string;
  password: string;
  role: UserRole;
  scope: string;
}

type Queryable = Pick<pg.Pool, 'query'>;

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

// A fixed hash to verify against when the username is unknown, so a miss costs the same scrypt
// as a wrong password and login timing does not reveal which usernames exist.
const DUMMY_HASH = hashSecret(randomBytes(16).toString('base64url'));

const USER_COLUMNS = `u.id, u.username, u.display_name, u.role, u.scope_code, r.name AS scope_name, r.level AS scope_level`;

function toPublic(r: Record<string, unknown>): PublicUser {
  return {
    id: r.id as string,
    username: r.username as string,
    displayName: r.display_name as string,
    role: r.role as UserRole,
    scope: r.scope_code as string,
    scopeName: (r.scope_name as string | null) ?? null,
    scopeLevel: (r.scope_level as string | null) ?? null,
  };
}

export class UserStore {
  constructor(
    private readonly pool: Queryable,
    private readonly now: () => number = Date.now,
  ) {}

  /** Creates or updates users (the password is re-hashed each time). */
  async upsert(users: NewUser[]): Promise<void> {
    const rows = await Promise.all(users.map(async (u) => ({ ...u, hash: await hashSecret(u.password) })));
    await this.pool.query(
      `INSERT INTO users (id, username, display_name, password_hash, role, scope_code)
       SELECT r.id, r.username, r."displayName", r.hash, r.role, r.scope
         FROM jsonb_to_recordset($1::jsonb) AS r(id text, username text, "displayName" text, hash text, role text, scope text)
       ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username, display_name = EXCLUDED.display_name,
         password_hash = EXCLUDED.password_hash, role = EXCLUDED.role, scope_code = EXCLUDED.scope_code`,
      [JSON.stringify(rows.map(({ password: _p, ...rest }) => rest))],
    );
  }

  /** The user for a username and password, or null; the same cost either way. */
  async verify(username: string, password: string): Promise<PublicUser | null> {
    const r = await this.pool.query(
      `SELECT ${USER_COLUMNS}, u.password_hash FROM users u LEFT JOIN regions r ON r.code = u.scope_code
        WHERE u.username = $1 AND u.enabled`,
      [username],
    );
    const row = r.rows[0] as Record<string, unknown> | undefined;
    const ok = await verifySecret(password, (row?.password_hash as string | undefined) ?? (await DUMMY_HASH));
    return row && ok ? toPublic(row) : null;
  }

  /** A new session; returns the token (shown to the client once) and when it expires. */
  async createSession(userId: string, ttlMs: number): Promise<{ token: string; expiresAt: number }> {
    const token = randomBytes(32).toString('base64url');
    const now = this.now();
    const expiresAt = now + ttlMs;
    await this.pool.query(`INSERT INTO user_sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`, [
      tokenHash(token),
      userId,
      new Date(now),
      new Date(expiresAt),
    ]);
    // Expired rows go on each login: cheap, and no timer to own.
    await this.pool.query(`DELETE FROM user_sessions WHERE expires_at < $1`, [new Date(now)]);
    return { token, expiresAt };
  }

  /** The user behind a live session token, or null (unknown, expired, user disabled). */
  async sessionUser(token: string): Promise<{ user: PublicUser; expiresAt: number } | null> {
    const r = await this.pool.query(
      `SELECT ${USER_COLUMNS}, s.expires_at FROM user_sessions s
         JOIN users u ON u.id = s.user_id AND u.enabled
         LEFT JOIN regions r ON r.code = u.scope_code
        WHERE s.token_hash = $1 AND s.expires_at > $2`,
      [tokenHash(token), new Date(this.now())],
    );
    const row = r.rows[0] as Record<string, unknown> | undefined;
    return row ? { user: toPublic(row), expiresAt: (row.expires_at as Date).getTime() } : null;
  }

  async deleteSession(token: string): Promise<void> {
    await this.pool.query(`DELETE FROM user_sessions WHERE token_hash = $1`, [tokenHash(token)]);
  }
}
