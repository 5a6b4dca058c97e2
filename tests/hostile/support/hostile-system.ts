// The real system for hostile tests (embedded database in memory, broker and hub on port 0), with
// its log lines kept so a test can check that a refusal was said, not only counted.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { testConfig } from '../../../common/config.js';
import { startSystem, type RunningSystem } from '../../../system.js';
import { registerDevices, type TestDevice } from '../../../testkit/builders.js';

export interface HostileSystem {
  sys: RunningSystem;
  devices: Record<string, TestDevice>;
  /** Every log line at warn and above so far. */
  lines: Array<Record<string, unknown> & { msg?: string; reason?: string }>;
}

export async function startHostileSystem(suffixes = ['h1', 'h2']): Promise<HostileSystem> {
  const lines: HostileSystem['lines'] = [];
  const sink = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(JSON.parse(chunk.toString())), cb()) });
  const sys = await startSystem({ config: testConfig(), logger: pino({ level: 'warn' }, sink), inMemoryDb: true });
  const devices = await registerDevices(sys.db.pool, suffixes);
  await sys.hub.reloadRegistry();
  return { sys, devices, lines };
}

export function linesWith(lines: HostileSystem['lines'], reason: string): HostileSystem['lines'] {
  return lines.filter((l) => l.reason === reason);
}
