// The OwnTracks door into the hub's ingest, shared by MQTT mode (the broker's ingest sink, see
// `ownTracksSink`) and HTTP mode (owntracks-http.ts). One payload → its native messages, each handed
// to Hub.submit; the returned promise resolves once all of them (or the dead letter of a payload
// the hub cannot use) are committed, so the broker's PUBACK and the HTTP 200 mean "stored"
// (docs/decisions/009-ingest-in-broker.md). It rejects only when a dead letter cannot be written
// (the database is away): then nothing is acknowledged and the app sends the message again.
//
// Presence: an OwnTracks app publishes no "online" message of its own, only a last will. The first
// location from a phone this node has not seen online (since it started, or since its last will)
// is preceded by an `online` presence, so the command screen shows the worker like any other.
import type pg from 'pg';
import { systemClock, type Clock } from '../../common/clock.js';
import { LogBudget } from '../../common/log-budget.js';
import type { Logger } from '../../common/logger.js';
import type { Metrics } from '../../common/metrics.js';
import { deviceTopic } from '../../protocol/topics.js';
import { isOwnTracksTopic, parseOwnTracksTopic } from '../../protocol/owntracks-topics.js';
import { translateOwnTracks, type NativeMessage } from './owntracks-translate.js';

/** Hub.submit: one native message; resolves once its rows or its dead letter are committed. */
export type Submit = (topic: string, payload: Buffer) => Promise<void>;

export interface DeadLetter {
  topic: string;
  deviceId: string | null;
  reason: string;
  payload: Buffer;
}

export interface OwnTracksIngestDeps {
  submit: Submit;
  topicRoot: string;
  /** Keeps a refused payload: the hub's `dead_letters` table (pgDeadLetters), resolved after commit. */
  deadLetter: (d: DeadLetter) => Promise<void>;
  metrics: Metrics;
  logger: Logger;
  clock?: Clock;
}

/** The same row the hub's pipeline writes for a refused message (hub/rows/row-writer.ts). */
const MAX_DEAD_LETTER_BYTES = 4096;

/** Dead letters written straight to the hub's table, one statement each (they are rare). */
export function pgDeadLetters(pool: Pick<pg.Pool, 'query'>): (d: DeadLetter) => Promise<void> {
  return async (d) => {
    await pool.query('INSERT INTO dead_letters (topic, device_id, reason, size, payload) VALUES ($1, $2, $3, $4, $5)', [
      d.topic.slice(0, 512),
      d.deviceId,
      d.reason,
      d.payload.length,
      d.payload.subarray(0, MAX_DEAD_LETTER_BYTES),
    ]);
  };
}

export class OwnTracksIngest {
  private readonly log: Logger;
  private readonly clock: Clock;
  /** Devices seen online by this node (bounded by the registry's size). */
  private readonly online = new Set<string>();
  /** A flood is counted, not echoed: at most LOG_PER_REASON_PER_S lines per reason per second. */
  private readonly logBudget: LogBudget;

  constructor(private readonly deps: OwnTracksIngestDeps) {
    this.log = deps.logger.child({ mod: 'owntracks' });
    this.clock = deps.clock ?? systemClock;
    this.logBudget = LogBudget.perReasonPerSecond(this.clock);
    deps.metrics.describe('owntracks_messages_total', 'OwnTracks payloads taken in, by _type and mode (mqtt, http)');
    deps.metrics.describe('owntracks_rejected_total', 'OwnTracks payloads kept as dead letters, by reason');
  }

  /**
   * One payload of an authenticated device. `topic` is where it came from (MQTT) or the topic it
   * would have had (HTTP); it names the dead letter.
   */
  async handle(deviceId: string, topic: string, payload: Buffer, mode: 'mqtt' | 'http'): Promise<void> {
    const t = translateOwnTracks(payload, this.clock.now());
    if (!t.ok) {
      this.deps.metrics.inc('owntracks_messages_total', { type: t.type ?? 'none', mode });
      return this.reject(deviceId, topic, payload, t.reason);
    }
    this.deps.metrics.inc('owntracks_messages_total', { type: t.type, mode });
    const messages: NativeMessage[] = [];
    if (t.type === 'lwt') this.online.delete(deviceId);
    else if (t.type === 'location' && !this.online.has(deviceId)) {
      this.online.add(deviceId);
      messages.push({ channel: 'presence', body: { online: true, ts: this.clock.now(), source: 'owntracks' } });
    }
    messages.push(...t.messages);
    // Submitted in order: the pipeline handles them in arrival order (presence before the fix).
    await Promise.all(
      messages.map((m) => this.deps.submit(deviceTopic(this.deps.topicRoot, deviceId, m.channel), Buffer.from(JSON.stringify(m.body)))),
    );
  }

  private async reject(deviceId: string | null, topic: string, payload: Buffer, reason: string): Promise<void> {
    const label = reason.split(':')[0]!;
    this.deps.metrics.inc('owntracks_rejected_total', { reason: label });
    if (this.logBudget.take(label))
      this.log.warn({ deviceId, topic: topic.slice(0, 200), reason, size: payload.length }, 'owntracks payload refused');
    await this.deps.deadLetter({ topic, deviceId, reason, payload });
  }

  /**
   * The broker's ingest sink: OwnTracks topics are translated here, everything else goes to the
   * hub as it is. The broker's ACL has already tied the topic's user to the connected device.
   */
  sink = (topic: string, payload: Buffer): Promise<void> => {
    if (!isOwnTracksTopic(topic)) return this.deps.submit(topic, payload);
    const parsed = parseOwnTracksTopic(topic);
    if (!parsed) return this.reject(null, topic, payload, 'owntracks_unknown_topic');
    return this.handle(parsed.user, topic, payload, 'mqtt');
  };
}

export interface OwnTracksSinkOptions extends Omit<OwnTracksIngestDeps, 'deadLetter'> {
  /** The database the hub writes to (its dead_letters table). */
  pool: Pick<pg.Pool, 'query'>;
}

/**
 * What system.ts hands the broker as its ingest sink:
 * `ingest: ownTracksSink({ submit: hub.submit, topicRoot: config.TOPIC_ROOT, pool: db.pool, metrics, logger })`.
 */
export function ownTracksSink(opts: OwnTracksSinkOptions): (topic: string, payload: Buffer) => Promise<void> {
  const { pool, ...rest } = opts;
  return new OwnTracksIngest({ ...rest, deadLetter: pgDeadLetters(pool) }).sink;
}
