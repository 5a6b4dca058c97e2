// A node as a user runs it: `main.ts` in its own process (tsx), forked so the test learns its
// addresses, stopped with a signal. Tests of start, stop, kill -9 and restart use this.
import { fork, type ChildProcess } from 'node:child_process';
export { postmasterPid, processTree } from './process-cpu.js';

export interface NodeProcess {
  child: ChildProcess;
  mqttUrl: string;
  httpUrl: string;
  /** Resolves with the exit code (or signal) and how long after `signal` it came. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

export function startNode(env: Record<string, string>, timeoutMs = 90_000): Promise<NodeProcess> {
  // NODE_CPU_PROF_DIR: CPU profiles of the node (and its cluster workers, which inherit execArgv) for
  // a bench; node refuses --cpu-prof in NODE_OPTIONS. NODE_BENCH_FLAGS: more node flags for the node
  // alone, not the bench or its load (e.g. `--max-semi-space-size=32` to compare GC settings).
  const prof = process.env.NODE_CPU_PROF_DIR;
  const extra = (process.env.NODE_BENCH_FLAGS ?? '').split(' ').filter(Boolean);
  const child = fork('main.ts', [], {
    execArgv: ['--import', 'tsx', ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), ...extra],
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', JT808_PORT: '0', ...env },
    stdio: ['ignore', process.env.NODE_LOGS ? 'inherit' : 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
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
