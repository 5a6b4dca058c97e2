// Texts to JT/T 808 terminals connected to another node (issue 14: "a task offer reaches a handset
// on the other node"). A terminal's TCP connection lives on one node, and dispatch may run on any.
// A node that does not hold the terminal asks every node over the cross-node bus (the broker's
// Redis emitter); the node that holds it claims the request at once, sends the 0x8300 and answers
// with the terminal's outcome. No claim within `claimMs`: no node holds it (`not_connected`). A
// claim with no outcome within the terminal's reply timeout (plus the claim's): `no_reply`.
//
// Requests and answers go to every node (offers are a few a minute); each node keeps only its own.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../common/logger.js';
import type { Metrics } from '../../common/metrics.js';
import { readNotice, type NodeBus } from '../../common/node-bus.js';
import type { TextOutcome } from './jt808-gateway.js';

export const TEXT_REQUEST_TOPIC = '$GRID/jt808/text';
export const TEXT_ANSWER_TOPIC = '$GRID/jt808/text-answer';

interface TextRequest {
  id: string;
  from: string;
  deviceId: string;
  text: string;
}
type TextAnswer = { id: string; to: string; claim: true } | { id: string; to: string; outcome: TextOutcome };

export interface TextRelayOptions {
  gateway: { has(deviceId: string): boolean; sendText(deviceId: string, text: string): Promise<TextOutcome> };
  /** Absent (one node): a terminal not connected here is not connected at all. */
  bus: NodeBus | null;
  /** How long the terminal is given to answer a text (the gateway's textReplyTimeoutMs). */
  replyTimeoutMs: number;
  claimMs?: number;
  metrics: Metrics;
  logger: Logger;
}

export interface TextRelay {
  sendText(deviceId: string, text: string): Promise<TextOutcome>;
  stop(): void;
}

export function jt808TextRelay(o: TextRelayOptions): TextRelay {
  const node = randomUUID();
  const claimMs = o.claimMs ?? 2000;
  const log = o.logger.child({ mod: 'jt808-relay' });
  const pending = new Map<string, { resolve(outcome: TextOutcome): void; timer: NodeJS.Timeout }>();
  const bus = o.bus;
  o.metrics.describe('jt808_relayed_texts_total', 'texts to JT/T 808 terminals on other nodes, by role (asked, served) and outcome');

  const settle = (id: string, outcome: TextOutcome): void => {
    const p = pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    pending.delete(id);
    o.metrics.inc('jt808_relayed_texts_total', { role: 'asked', outcome });
    p.resolve(outcome);
  };
  const send = (topic: string, body: TextRequest | TextAnswer): Promise<void> =>
    bus!.emit(topic, Buffer.from(JSON.stringify(body))).catch((err: Error) => {
      log.warn({ err: err.message, topic }, 'cross-node text notice not sent');
    });

  if (bus) {
    bus.on(TEXT_REQUEST_TOPIC, (payload) => {
      const r = readNotice<TextRequest>(payload, log, 'text');
      if (!r || r.from === node || !o.gateway.has(r.deviceId)) return;
      void send(TEXT_ANSWER_TOPIC, { id: r.id, to: r.from, claim: true });
      o.gateway.sendText(r.deviceId, r.text).then(
        (outcome) => {
          o.metrics.inc('jt808_relayed_texts_total', { role: 'served', outcome });
          void send(TEXT_ANSWER_TOPIC, { id: r.id, to: r.from, outcome });
        },
        (err: Error) => {
          log.error({ err: err.message, deviceId: r.deviceId }, 'text for another node failed');
          void send(TEXT_ANSWER_TOPIC, { id: r.id, to: r.from, outcome: 'failed' });
        },
      );
    });
    bus.on(TEXT_ANSWER_TOPIC, (payload) => {
      const a = readNotice<TextAnswer>(payload, log, 'text');
      if (!a || a.to !== node) return;
      const p = pending.get(a.id);
      if (!p) return;
      if ('outcome' in a) return settle(a.id, a.outcome);
      // Claimed: now the terminal's own answer is awaited, on the node that holds it.
      clearTimeout(p.timer);
      p.timer = setTimeout(() => settle(a.id, 'no_reply'), o.replyTimeoutMs + claimMs);
    });
  }

  return {
    async sendText(deviceId, text) {
      if (o.gateway.has(deviceId) || !bus) return o.gateway.sendText(deviceId, text);
      const id = randomUUID();
      const outcome = new Promise<TextOutcome>((resolve) => {
        pending.set(id, { resolve, timer: setTimeout(() => settle(id, 'not_connected'), claimMs) });
      });
      void send(TEXT_REQUEST_TOPIC, { id, from: node, deviceId, text });
      return outcome;
    },
    stop() {
      for (const id of [...pending.keys()]) settle(id, 'not_connected');
    },
  };
}
