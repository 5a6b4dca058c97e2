// A throwaway Redis for the scale-out tests and benches (Socket.IO adapter, mqemitter-redis).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { supervise } from './supervised-child.js';

export interface RedisServer {
  /** redis://127.0.0.1:<port>, no password. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export function redisAvailable(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

/** Start a throwaway redis-server (no persistence) in a temp dir; stop() kills it and deletes the dir. */
export async function startRedis(opts: { readyTimeoutMs?: number; port?: number } = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gdh-redis-'));
  // A given port: a test that stops Redis and starts it again where the clients expect it.
  const port = opts.port ?? (await freePort());
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // With --save '' redis exits on SIGTERM without writing anything.
  const { exited, log, stop } = supervise(child, 'SIGTERM', () => rmSync(dir, { recursive: true, force: true }));

  const url = `redis://127.0.0.1:${port}`;
  try {
    await waitReady(url, exited, opts.readyTimeoutMs ?? 15_000, log);
    return { url, port, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Ready means a PING answers; ioredis does the reconnect back-off, we only bound the wait. */
async function waitReady(url: string, exited: Promise<void>, timeoutMs: number, log: () => string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(times * 20, 200) });
  client.on('error', () => {}); // refused connections are expected until the server listens
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.ping(), // queued until connected
      exited.then(() => {
        throw new Error(`redis-server exited during startup:\n${log()}`);
      }),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`redis-server not ready after ${timeoutMs} ms:\n${log()}`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
