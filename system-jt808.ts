// Wires the JT/T 808 gateway (gateways/jt808/) into a node: who a terminal is comes from the
// device registry, its messages go to the hub's ingest (the 0x8001 reply waits for the commit, as a
// PUBACK does), its refused frames become dead letters.
//
// Identity: a terminal is a `jt808` device whose `protocol_id` is its terminal number (compared
// without leading zeros: the terminal's BCD number pads them, an admin may type them or not); when none has it, the device `jt808-{number}` (as the gateway's own adapter
// names them). Its authentication code is never stored: it is derived from the device's secret row
// with the server key (common/secrets.ts derivedDeviceCode), so rotating the secret changes it.
// Registration (0x0100) hands the code out only to a terminal that has not been seen since its
// secret was (re)issued: anyone who knows a terminal's number could otherwise register and take its
// code (JT/T 808 identifies terminals by number alone). A registered terminal that registers again
// gets result 3 ("terminal already registered") until an admin rotates its secret.
import { timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import type { Clock } from './common/clock.js';
import type { Config } from './common/config.js';
import type { Logger } from './common/logger.js';
import type { Metrics } from './common/metrics.js';
import { derivedDeviceCode, type DeviceSecretKey } from './common/secrets.js';
import { startJt808Gateway, type RunningJt808Gateway } from './gateways/jt808/jt808-gateway.js';
import { jt808DeviceId } from './gateways/jt808/jt808-device-registry.js';

interface TerminalRow {
  id: string;
  kind: string;
  enabled: boolean;
  secret_hash: string;
  /** Seen since its secret was issued: registration is closed. */
  registered: boolean;
}

const CODE_PURPOSE = 'jt808-auth';

export interface Jt808WiringOptions {
  pool: pg.Pool;
  config: Config;
  key: DeviceSecretKey;
  submit(topic: string, payload: Buffer): Promise<void>;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  /** How long a text (a task offer on a terminal's screen) waits for the terminal's 0x0001; default 30 s. */
  textReplyTimeoutMs?: number;
}

async function findTerminal(pool: pg.Pool, terminalNo: string): Promise<TerminalRow | null> {
  const r = await pool.query<TerminalRow>(
    `SELECT id, kind, enabled, secret_hash,
            (last_seen IS NOT NULL AND (secret_changed_at IS NULL OR last_seen > secret_changed_at)) AS registered
       FROM devices
      WHERE (protocol = 'jt808' AND ltrim(protocol_id, '0') = $1) OR id = $2
      ORDER BY (ltrim(protocol_id, '0') = $1) DESC NULLS LAST LIMIT 1`,
    [terminalNo, jt808DeviceId(terminalNo)],
  );
  return r.rows[0] ?? null;
}

export function startJt808(o: Jt808WiringOptions): Promise<RunningJt808Gateway> {
  const codeOf = (d: TerminalRow) => derivedDeviceCode(o.key, d.id, d.secret_hash, CODE_PURPOSE);
  // Only handsets publish locations and events (protocol/topics.ts PUBLISH_CHANNELS).
  const usable = (d: TerminalRow | null): d is TerminalRow => d?.enabled === true && d.kind === 'handset';
  return startJt808Gateway({
    async authenticate(terminalNo, authCode) {
      const d = await findTerminal(o.pool, terminalNo);
      if (!usable(d)) return null;
      const want = Buffer.from(codeOf(d));
      const got = Buffer.from(authCode);
      return want.length === got.length && timingSafeEqual(want, got) ? { deviceId: d.id } : null;
    },
    async register(terminalNo) {
      const d = await findTerminal(o.pool, terminalNo);
      if (!usable(d)) return { result: 4 };
      if (d.registered) {
        o.metrics.inc('jt808_registration_refused_total', { reason: 'already_registered' });
        return { result: 3 };
      }
      return { result: 0, authCode: codeOf(d) };
    },
    submit: o.submit,
    topicRoot: o.config.TOPIC_ROOT,
    metrics: o.metrics,
    logger: o.logger,
    clock: o.clock,
    host: o.config.HOST,
    port: o.config.JT808_PORT,
    idleTimeoutMs: o.config.JT808_IDLE_S * 1000,
    ...(o.textReplyTimeoutMs === undefined ? {} : { textReplyTimeoutMs: o.textReplyTimeoutMs }),
    deadLetter: async (d) => {
      await o.pool.query('INSERT INTO dead_letters (topic, device_id, reason, size, payload) VALUES ($1, $2, $3, $4, $5)', [
        'jt808',
        d.deviceId,
        d.reason,
        d.frame.length,
        d.frame.subarray(0, 4096),
      ]);
    },
  });
}
