// `npm run users`: command-screen accounts from a terminal, on the embedded database as the hub
// opens it. A USER_PASSWORD that is too short is refused (it used to be swapped silently for a random
// password that was never shown, leaving an account nobody could sign in to).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runUserCli } from '../../cli/users-cli.js';
import { testConfig } from '../../common/config.js';
import { silentLogger } from '../../common/logger.js';
import { UserStore } from '../../hub/auth/user-store.js';
import { openDatabase } from '../../storage/database.js';

let dir: string;
const env = (extra: Record<string, string> = {}) => ({ DATA_DIR: join(dir, 'data'), ...extra });

async function cli(args: string[], extra: Record<string, string> = {}) {
  const lines: string[] = [];
  const code = await runUserCli(args, env(extra), (l) => lines.push(l));
  return { code, out: lines.join('\n') };
}

async function withDb<T>(work: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const db = await openDatabase(testConfig(env()), silentLogger);
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'users-cli-'));
  await withDb((db) =>
    db.pool.query(
      `INSERT INTO regions (code, parent_code, level, name, geometry) VALUES ('D1', NULL, 'district', '测试区', '{"type":"Polygon","coordinates":[[[113,27],[113.1,27],[113.1,27.1],[113,27]]]}')`,
    ),
  );
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('refuses a USER_PASSWORD shorter than 10 characters and saves nothing', async () => {
  const r = await cli(['add', 'short', '--role', 'viewer', '--scope', 'D1'], { USER_PASSWORD: 'abc123' });
  expect(r.code).toBe(2);
  expect(r.out).toMatch(/USER_PASSWORD is 6 characters; use at least 10/);
  const n = await withDb(async (db) => (await db.pool.query(`SELECT count(*)::int AS n FROM users WHERE username = 'short'`)).rows[0].n);
  expect(n).toBe(0);
}, 60_000);

it('saves a user with the given password, who can then sign in with it', async () => {
  const r = await cli(['add', 'li.lei', '--role', 'operator', '--scope', 'D1', '--name', '李雷'], { USER_PASSWORD: 'long-enough-pass' });
  expect(r.code).toBe(0);
  expect(r.out).toBe('user li.lei saved');
  const user = await withDb((db) => new UserStore(db.pool).verify('li.lei', 'long-enough-pass'));
  expect(user?.role).toBe('operator');
}, 60_000);

it('makes a random password when none is given and shows it once', async () => {
  const r = await cli(['add', 'han.meimei', '--role', 'viewer', '--scope', 'D1']);
  expect(r.code).toBe(0);
  const password = /password \(shown once\): (\S+)/.exec(r.out)?.[1];
  expect(password?.length).toBeGreaterThanOrEqual(16);
  expect(await withDb((db) => new UserStore(db.pool).verify('han.meimei', password!))).not.toBeNull();
  expect((await cli(['list'])).out).toMatch(/han\.meimei\tviewer\tD1/);
}, 60_000);
