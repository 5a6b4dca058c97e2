import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';
import { supervise } from './supervised-child.js';

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/<database>, trust auth, no password. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Created after start; the url points at it. Default: `postgres`. */
  database?: string;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string>;
  /** Give up waiting for readiness after this many ms. Default 30 000. */
  readyTimeoutMs?: number;
}

const BINARIES = ['initdb', 'postgres'] as const;

/** Newest Debian cluster bin dir (/usr/lib/postgresql/<major>/bin), else PATH; null when absent. */
export function pgBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a))
    : [];
  const candidates = [...majors.map((m) => join(root, m, 'bin')), ...(process.env.PATH ?? '').split(delimiter)];
  return candidates.find((dir) => dir && BINARIES.every((b) => existsSync(join(dir, b)))) ?? null;
}

export function pgBinariesAvailable(): boolean {
  return pgBinDir() !== null;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/**
 * PostgreSQL refuses to run as root, so as root we run initdb/postgres as the `postgres`
 * system user (created if missing). We switch uid with spawn's own uid/gid rather than
 * runuser: runuser would sit between us and the postmaster and turn every signal into SIGTERM.
 */
function runAs(): RunAs {
  if (process.getuid?.() !== 0) return {};
  if (spawnSync('id', ['-u', 'postgres']).status !== 0) {
    const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`could not create the postgres user: ${made.stderr}`);
  }
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Start a throwaway cluster in a fresh temp dir; stop() kills it and deletes the dir. */
export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = pgBinDir();
  if (bin === null) throw new Error('PostgreSQL server binaries not found; run scripts/ensure-test-deps.sh');
  const user = runAs();
  // os.tmpdir() (normally /tmp) so the postgres user can reach the dir when we are root.
  const dir = mkdtempSync(join(tmpdir(), 'gdh-pg-'));
  if (user.uid !== undefined && user.gid !== undefined) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };

  // --no-sync: the cluster is thrown away, durability buys nothing and costs seconds.
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'], { cwd: dir, env, encoding: 'utf8', ...user });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status ?? init.signal}): ${init.stderr || init.error?.message}`);
  }

  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    shared_buffers: '16MB',
    max_connections: '50',
    ...opts.settings,
  };
  const args = ['-D', data, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const child = spawn(join(bin, 'postgres'), args, { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'], ...user });
  // SIGINT is PostgreSQL's "fast" shutdown.
  const { exited, log, stop } = supervise(child, 'SIGINT', () => rmSync(dir, { recursive: true, force: true }));

  try {
    await waitReady(port, exited, opts.readyTimeoutMs ?? 30_000, log);
    const database = opts.database ?? 'postgres';
    if (database !== 'postgres') await query(port, 'postgres', `CREATE DATABASE ${pg.escapeIdentifier(database)}`);
    return { url: `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(database)}`, port, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function query(port: number, database: string, sql: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Ready means a real client gets through, not merely that the port is open. */
async function waitReady(port: number, exited: Promise<void>, timeoutMs: number, log: () => string): Promise<void> {
  let gone = false;
  void exited.then(() => { gone = true; });
  const deadline = Date.now() + timeoutMs;
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    if (gone) throw new Error(`postgres exited during startup:\n${log()}`);
    try {
      await query(port, 'postgres', 'SELECT 1');
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`postgres not ready after ${timeoutMs} ms: ${String(err)}\n${log()}`);
    }
    // Back-off between connection attempts (polling a condition, not a fixed sleep).
    await new Promise((r) => setTimeout(r, delay));
  }
}
