// The parent's end of system-child.ts: starts the real system in a child process with
// --expose-gc and asks it for its memory, counters and stored rows.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type ChildRequest =
  | { id: number; cmd: 'mem'; gc?: boolean; resetPeak?: boolean }
  | { id: number; cmd: 'metrics' }
  | { id: number; cmd: 'rows'; deviceId: string }
  | { id: number; cmd: 'stop' };

export type ChildReply =
  | { ready: true; port: number; device: { id: string; secret: string }; fuzzDevices: Array<{ id: string; secret: string }> }
  | { id: number; rss: number; heapUsed: number; external: number; peak: number; gcAvailable: boolean }
  | { id: number; metrics: Record<string, number>; connected: number }
  | { id: number; rows: number }
  | { id: number; error: string }
  | { id: number };

/** Omit distributed over the union (plain Omit keeps only the keys common to all members). */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface Memory {
  rss: number;
  heapUsed: number;
  /** Memory outside the JS heap held by JS objects: Buffers (socket and parser data) live here. */
  external: number;
  /** Highest RSS sampled (every 50 ms) since the last reset. */
  peak: number;
}

export interface SystemProcess {
  port: number;
  /** A handset whose traffic must keep flowing. */
  device: { id: string; secret: string };
  /** Devices a fuzzer may log in as. */
  fuzzDevices: Array<{ id: string; secret: string }>;
  child: ChildProcess;
  /** The child's memory, after a forced collection when `gc`; `resetPeak` starts a new peak. */
  memory(opts?: { gc?: boolean; resetPeak?: boolean }): Promise<Memory>;
  metrics(): Promise<{ metrics: Record<string, number>; connected: number }>;
  rows(deviceId: string): Promise<number>;
  /** Whether the process is still running (a crash is what a hostile run must never cause). */
  alive(): boolean;
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./system-child.ts', import.meta.url));

export function startSystemProcess(timeoutMs = 90_000): Promise<SystemProcess> {
  const child = fork(CHILD, [], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { ...process.env, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  // A crashed test must not leave the child behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let nextId = 1;
  const waiting = new Map<number, (m: ChildReply) => void>();
  let exited = false;
  child.once('exit', () => {
    exited = true;
    process.off('exit', killOnExit);
    for (const resolve of waiting.values()) resolve({ id: -1, error: 'system process exited' });
    waiting.clear();
  });
  child.on('message', (m: ChildReply) => {
    if (!('id' in m)) return;
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  function ask<T extends ChildReply>(req: WithoutId<ChildRequest>): Promise<T> {
    if (exited) return Promise.reject(new Error('system process exited'));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      waiting.set(id, (m) => ('error' in m ? reject(new Error(m.error)) : resolve(m as T)));
      child.send({ ...req, id });
    });
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`system process not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`system process exited before it was ready (code ${code}, signal ${signal})`));
    });
    child.once('message', (m: ChildReply) => {
      if (!('ready' in m)) return;
      clearTimeout(timer);
      resolve({
        port: m.port,
        device: m.device,
        fuzzDevices: m.fuzzDevices,
        child,
        memory: (opts = {}) =>
          ask<Extract<ChildReply, { rss: number }>>({ cmd: 'mem', ...opts }).then(({ rss, heapUsed, external, peak }) => ({
            rss,
            heapUsed,
            external,
            peak,
          })),
        metrics: () => ask<Extract<ChildReply, { metrics: Record<string, number> }>>({ cmd: 'metrics' }),
        rows: (deviceId) => ask<Extract<ChildReply, { rows: number }>>({ cmd: 'rows', deviceId }).then((r) => r.rows),
        alive: () => !exited,
        async stop() {
          if (exited) return;
          const gone = new Promise<void>((r) => child.once('exit', () => r()));
          await ask({ cmd: 'stop' }).catch(() => undefined);
          const timer2 = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await gone;
          clearTimeout(timer2);
        },
      });
    });
  });
}
