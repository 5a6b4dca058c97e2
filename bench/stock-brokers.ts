// The baselines of `bench:ingest --baseline aedes|mosquitto` (issue 14): a stock broker with no
// authentication, ACL or hooks, and one C subscriber (mosquitto_sub -q 1, persistent session) on
// the handsets' location topic, i.e. what it costs just to move the messages. Debian's `mosquitto`
// and `mosquitto-clients` packages are installed when missing.
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../testkit/free-port.js';

export type BaselineKind = 'aedes' | 'mosquitto';

export interface StockBroker {
  port: number;
  /** Processes whose CPU the baseline is charged: the broker and the subscriber. */
  pids: number[];
  stop(): Promise<void>;
}

function ensureMosquitto(): void {
  if (spawnSync('sh', ['-c', 'command -v mosquitto && command -v mosquitto_sub']).status === 0) return;
  console.log('installing Debian packages mosquitto, mosquitto-clients for the baseline…');
  const r = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'mosquitto', 'mosquitto-clients'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status !== 0) throw new Error('could not install mosquitto and mosquitto-clients (run apt-get update first, as root)');
}

const exited = (c: ChildProcess) => new Promise<void>((resolve) => (c.exitCode !== null ? resolve() : c.once('exit', () => resolve())));

/**
 * mosquitto_sub with a persistent session at QoS 1. First a run with -E makes the session and its
 * subscription and exits on the SUBACK (an exit code is an event we can wait for; the SUBACK line of
 * -d sits in the pipe's stdio buffer); then the subscriber proper resumes that session, printing the
 * messages to /dev/null as a plain `mosquitto_sub -q 1` would.
 */
async function subscriber(port: number, topic: string): Promise<ChildProcess | null> {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-q', '1', '-c', '-i', 'bench-baseline-sub', '-t', topic];
  const first = spawn('mosquitto_sub', [...args, '-E'], { stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve) => first.once('exit', (c) => resolve(c)));
  if (code !== 0) return null;
  return spawn('mosquitto_sub', args, { stdio: 'ignore' });
}

export async function startStockBroker(kind: BaselineKind, topicRoot: string): Promise<StockBroker> {
  ensureMosquitto(); // mosquitto_sub is the subscriber of both baselines
  let broker: ChildProcess;
  let port: number;
  let dir: string | null = null;
  if (kind === 'aedes') {
    broker = fork(new URL('./stock-aedes-child.ts', import.meta.url), [], { execArgv: ['--import', 'tsx'] });
    port = await new Promise<number>((resolve) => broker.once('message', (m: { port: number }) => resolve(m.port)));
  } else {
    port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'gdh-mosquitto-'));
    const conf = join(dir, 'mosquitto.conf');
    // Mosquitto 2 listens on loopback only and refuses anonymous clients unless told.
    writeFileSync(
      conf,
      `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\nmax_inflight_messages 0\n`,
    );
    broker = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
    // Ready when it accepts a subscriber (below); a refused first try is retried.
  }
  let sub: ChildProcess | null = null;
  for (let i = 0; i < 50 && !sub; i++) {
    sub = await subscriber(port, `${topicRoot}/devices/+/location`);
    if (!sub) await new Promise((r) => setTimeout(r, 100));
  }
  if (!sub) throw new Error(`${kind} baseline: the subscriber could not connect`);
  return {
    port,
    pids: [broker.pid!, sub.pid!],
    async stop() {
      sub.kill('SIGTERM');
      broker.kill('SIGTERM');
      await Promise.all([exited(sub), exited(broker)]);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
