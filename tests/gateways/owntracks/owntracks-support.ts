// OwnTracks phones for the integration tests: registered through the device registry as an admin
// would (protocol owntracks), and the mosquitto command-line clients driven as real MQTT clients.
import { spawn } from 'node:child_process';
import { upsertWorkers } from '../../../storage/device-store.js';
import { ALL_SCOPE } from '../../../hub/auth/region-scope.js';
import type { RunningSystem } from '../../../system.js';

export interface Phone {
  id: string;
  secret: string;
  workerId: string;
}

/** A grid worker with an OwnTracks phone, made through the registry (its secret is shown once). */
export async function registerPhone(sys: RunningSystem, id: string): Promise<Phone> {
  await sys.db.pool.query(
    `INSERT INTO regions (code, parent_code, level, name, geometry) VALUES
       ('OT', NULL, 'district', 'OwnTracks 测试区', '{"type":"Polygon","coordinates":[[[113,27.8],[113.2,27.8],[113.2,27.9],[113,27.9],[113,27.8]]]}')
     ON CONFLICT DO NOTHING`,
  );
  const workerId = `w-${id}`;
  await upsertWorkers(sys.db.pool, [{ id: workerId, name: `网格员${id}`, role: 'grid_worker', gridCodes: ['OT'] }]);
  await sys.hub.reloadRegistry();
  const { secret } = await sys.hub.deviceRegistry.create(
    { id, kind: 'handset', protocol: 'owntracks', workerId },
    { id: 'test-admin', role: 'admin', scope: ALL_SCOPE },
  );
  return { id, secret, workerId };
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (mosquitto_pub exits after the PUBACK of a QoS 1 message). */
export function run(cmd: string, args: string[], timeoutMs = 15_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function mqttArgs(sys: RunningSystem, who: { id: string; secret: string }): string[] {
  return ['-h', '127.0.0.1', '-p', String(sys.broker.port), '-i', who.id, '-u', who.id, '-P', who.secret, '-V', 'mqttv311'];
}

/** mosquitto_pub at QoS 1, as the app publishes (its default pubQos is 1). */
export function mosquittoPub(
  sys: RunningSystem,
  who: { id: string; secret: string },
  topic: string,
  payload: Buffer | string,
): Promise<Run> {
  return run('mosquitto_pub', [...mqttArgs(sys, who), '-q', '1', '-t', topic, '-m', payload.toString()]);
}

/**
 * mosquitto_sub for one message, resolved once its subscription is granted (its debug output
 * shows the SUBACK), so a publish after that is sure to reach it.
 */
export async function mosquittoSubOne(
  sys: RunningSystem,
  who: { id: string; secret: string },
  topic: string,
): Promise<{ message: Promise<Run> }> {
  // stdbuf: mosquitto_sub's stdout is a pipe here, fully buffered; line by line, the SUBACK shows when it comes.
  const p = spawn('stdbuf', ['-oL', 'mosquitto_sub', ...mqttArgs(sys, who), '-q', '1', '-t', topic, '-C', '1', '-v', '-d', '-W', '15'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const done = new Promise<Run>((resolve, reject) => {
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  await new Promise<void>((resolve, reject) => {
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('SUBACK')) resolve();
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    void done.then((r) => reject(new Error(`mosquitto_sub ended before its SUBACK: ${r.code} ${r.stdout} ${r.stderr}`)));
  });
  return { message: done };
}
