// A throwaway plain PostgreSQL (initdb in a temp dir, loopback, trust auth) for the storage tests and
// the benches: the engine a real deployment runs, started and removed per suite.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';
import { supervise } from './supervised-child.js';

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/<database>, trust auth, no password. */
  url: string;
  port: number;
  /**
   * Freezes the whole server (SIGSTOP to the postmaster and every process it forked: backends,
   * checkpointer, walwriter): sockets stay open and nothing answers, a hung server as a client
   * sees it. New connections are accepted by the kernel and then wait too.
   */
  pause(): void;
  /** SIGCONT to what pause() stopped. */
  resume(): void;
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
    ? readdirSync(root)
        .filter((d) => /^\d+$/.test(d))
        .sort((a, b) => Number(b) - Number(a))
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
    const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], {
      encoding: 'utf8',
    });
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
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'], {
    cwd: dir,
    env,
    encoding: 'utf8',
    ...user,
  });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status ?? init.signal}): ${init.stderr || init.error?.message}`);
  }

  const port = await freePort();
  const settings: Record<string, string> = {
    // Plain PostgreSQL even where the TimescaleDB package is installed: without the preload the
    // hub never tries the extension (storage/database.ts). The initdb default, said out loud.
    shared_preload_libraries: '',
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
  const supervised = supervise(child, 'SIGINT', () => rmSync(dir, { recursive: true, force: true }));
  const { exited, log } = supervised;
  let paused: number[] = [];
  const resume = () => {
    for (const pid of paused) signal(pid, 'SIGCONT');
    paused = [];
  };
  const pause = () => {
    if (paused.length > 0 || child.pid === undefined) return;
    // The postmaster first, so that it forks nothing after its children are listed.
    signal(child.pid, 'SIGSTOP');
    paused = [...childrenOf(child.pid), child.pid];
    for (const pid of paused.slice(0, -1)) signal(pid, 'SIGSTOP');
  };
  // A stopped process does not act on SIGINT: a test that fails while paused still gets its server shut down.
  const stop = async () => {
    resume();
    await supervised.stop();
  };

  try {
    await waitReady(port, exited, opts.readyTimeoutMs ?? 30_000, log);
    const database = opts.database ?? 'postgres';
    if (database !== 'postgres') await query(port, 'postgres', `CREATE DATABASE ${pg.escapeIdentifier(database)}`);
    return { url: `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(database)}`, port, pause, resume, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** Direct children of `pid`, from /proc (Linux): field 4 of /proc/<pid>/stat is the parent. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

/**
 * A throwaway database on a server someone already runs (TEST_DATABASE_URL, bench:storage
 * --database-url): created empty, so a suite never touches the data there, and dropped after. The
 * URL's role needs CREATEDB (and, for TimescaleDB, the right to create the extension).
 */
export async function scratchDatabase(
  serverUrl: string,
  prefix = 'gdh_test',
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Math.floor(Math.random() * 1e9).toString(36)}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return {
    url: url.toString(),
    name,
    // FORCE (PostgreSQL 13+) ends a connection a failed test left open.
    drop: () => admin(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
  };
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
  void exited.then(() => {
    gone = true;
  });
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
