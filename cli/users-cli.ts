// Command-screen accounts from the command line, for a hub without the demo district (SIM=false):
//
//   npm run users -- add <username> --role admin|operator|viewer --scope <region code> [--name 名称]
//   npm run users -- list
//
// The password comes from USER_PASSWORD (10 characters at least: a shorter one is refused, never
// swapped for a random one nobody sees), or a random one is made and printed once. Uses the
// database the hub uses (DATABASE_URL, else the embedded one in DATA_DIR) - stop an embedded hub first.
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadConfig } from '../common/config.js';
import { openDatabase } from '../storage/database.js';
import { USER_ROLES, UserStore, type UserRole } from '../hub/auth/user-store.js';

const MIN_PASSWORD = 10;

const USAGE = `usage:
  npm run users -- add <username> --role admin|operator|viewer --scope <region code> [--name 名称]
  npm run users -- list`;

export async function runUserCli(argv: string[], env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { role: { type: 'string' }, scope: { type: 'string' }, name: { type: 'string' } },
  });
  const [command, username] = positionals;
  if (command !== 'add' && command !== 'list') return (out(USAGE), 2);
  const given = env.USER_PASSWORD;
  if (command === 'add' && given !== undefined && given.length < MIN_PASSWORD) {
    return (out(`USER_PASSWORD is ${given.length} characters; use at least ${MIN_PASSWORD}, or leave it unset for a random one`), 2);
  }
  const db = await openDatabase(loadConfig(env), pino({ level: 'warn' }));
  try {
    if (command === 'list') {
      const r = await db.pool.query('SELECT username, display_name, role, scope_code, enabled FROM users ORDER BY username');
      for (const u of r.rows) out(`${u.username}\t${u.role}\t${u.scope_code}\t${u.display_name}${u.enabled ? '' : '\t(disabled)'}`);
      return 0;
    }
    const role = values.role as UserRole | undefined;
    if (!username || !role || !USER_ROLES.includes(role) || !values.scope) return (out(USAGE), 2);
    const region = await db.pool.query('SELECT 1 FROM regions WHERE code = $1', [values.scope]);
    if (region.rowCount === 0) return (out(`no region with code ${values.scope}`), 1);
    const password = given ?? randomBytes(12).toString('base64url');
    await new UserStore(db.pool).upsert([
      { id: `u-${username}`, username, displayName: values.name ?? username, password, role, scope: values.scope },
    ]);
    out(given ? `user ${username} saved` : `user ${username} saved; password (shown once): ${password}`);
    return 0;
  } finally {
    await db.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runUserCli(process.argv.slice(2), process.env, (line) => console.log(line));
}
