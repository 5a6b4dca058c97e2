// A node as a user runs it: `main.ts` in its own process (tsx), forked so the test learns its
// addresses, stopped with a signal. Tests of start, stop, kill -9 and restart use this.
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface NodeProcess {
  child: ChildProcess;
  mqttUrl: string;
  httpUrl: string;
  /** Resolves with the exit code (or signal) and how long after `signal` it came. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

export function startNode(env: Record<string, string>, timeoutMs = 90_000): Promise<NodeProcess> {
  const child = fork('main.ts', [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', process.env.NODE_LOGS ? 'inherit' : 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`main.ts not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('message', (m: { ready?: boolean; mqttUrl: string; httpUrl: string }) => {
      clearTimeout(timer);
      resolve({
        child,
        mqttUrl: m.mqttUrl,
        httpUrl: m.httpUrl,
        async stop(signal: NodeJS.Signals = 'SIGTERM') {
          const t0 = Date.now();
          child.kill(signal);
          const r = await exited;
          return { ...r, ms: Date.now() - t0 };
        },
      });
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`main.ts exited before it was ready (code ${code}, signal ${signal})`));
    });
  });
}

/** A process and all its descendants (to SIGSTOP a whole PostgreSQL server: postmaster and backends). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** The postmaster listening on this port (its command line carries `-p <port>`). */
export function postmasterPid(port: number): number {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      const i = cmd.indexOf('-p');
      if (cmd[0]?.endsWith('postgres') && i >= 0 && cmd[i + 1] === String(port)) return Number(d);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no postmaster on port ${port}`);
}
