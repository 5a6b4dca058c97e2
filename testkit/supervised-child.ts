// Supervision shared by the harness's server processes: keep a log tail for error messages, know
// when the process is gone, never leave it behind, and stop it with its own graceful signal.
import type { ChildProcess } from 'node:child_process';

export interface Supervised {
  /** Resolves when the process exits or fails to start ('error' may come without 'exit'). */
  exited: Promise<void>;
  /** The last 4 KB of its stdout/stderr. */
  log(): string;
  /** Sends `signal`, SIGKILL after 5 s, then runs `cleanup`; idempotent. */
  stop(): Promise<void>;
}

export function supervise(child: ChildProcess, signal: NodeJS.Signals, cleanup: () => void): Supervised {
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (err) => {
      log += `\n${err.message}`;
      resolve();
    });
  });
  // A crashed test worker must not leave a server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    cleanup();
  };
  return { exited, log: () => log, stop };
}
