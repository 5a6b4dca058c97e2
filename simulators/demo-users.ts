// DEMO ONLY: three command-screen accounts for the simulated district (issue 4), one per scope
// level, so a newcomer can see scoping at work. The passwords are fixed and published in the
// README; they are seeded only with the simulation (SIM=true), never for a production hub.
import type pg from 'pg';
import { hashSecret } from '../common/secrets.js';
import type { DemoDistrict } from './demo-district.js';

export interface DemoUser {
  id: string;
  username: string;
  password: string;
  displayName: string;
  role: 'admin' | 'operator' | 'viewer';
  scope: string;
}

/** District admin, an operator of the first street, a viewer of that street's first community. */
export function demoUsers(district: DemoDistrict): DemoUser[] {
  const regions = district.regions.features.map((f) => f.properties);
  const root = regions.find((r) => r.level === 'district');
  const street = regions.find((r) => r.level === 'street' && r.parent === root?.code);
  const community = regions.find((r) => r.level === 'community' && r.parent === street?.code);
  if (!root || !street || !community) return [];
  return [
    { id: 'u-admin', username: 'admin', password: 'grid-admin-2026', displayName: `${root.name}管理员`, role: 'admin', scope: root.code },
    {
      id: 'u-street',
      username: 'jiedao',
      password: 'grid-street-2026',
      displayName: `${street.name}值班员`,
      role: 'operator',
      scope: street.code,
    },
    {
      id: 'u-community',
      username: 'shequ',
      password: 'grid-community-2026',
      displayName: `${community.name}指挥屏`,
      role: 'viewer',
      scope: community.code,
    },
  ];
}

/** Upserts the demo accounts (storage/migrations/020_users.sql); passwords stored as scrypt hashes. */
export async function seedDemoUsers(pool: Pick<pg.Pool, 'query'>, district: DemoDistrict): Promise<DemoUser[]> {
  const users = demoUsers(district);
  if (users.length === 0) return users;
  const rows = await Promise.all(users.map(async ({ password, ...u }) => ({ ...u, hash: await hashSecret(password) })));
  await pool.query(
    `INSERT INTO users (id, username, display_name, password_hash, role, scope_code)
     SELECT r.id, r.username, r."displayName", r.hash, r.role, r.scope
       FROM jsonb_to_recordset($1::jsonb) AS r(id text, username text, "displayName" text, hash text, role text, scope text)
     ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username, display_name = EXCLUDED.display_name,
       password_hash = EXCLUDED.password_hash, role = EXCLUDED.role, scope_code = EXCLUDED.scope_code`,
    [JSON.stringify(rows)],
  );
  return users;
}
