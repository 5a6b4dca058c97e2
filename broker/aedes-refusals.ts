// Aedes' own refusals of a client's packets and its broken connections: each counted in
// mqtt_rejected_total with a reason, as the ACL's and the packet size guard's are, and logged within
// the per-address budget (issue 16, item 8).
import type { Aedes, Client } from 'aedes';
import type { LogBudget } from '../common/log-budget.js';
import type { Logger } from '../common/logger.js';
import type { Metrics } from '../common/metrics.js';

/**
 * Aedes' own refusals of a client's packets, told apart by the message of the error it closes the
 * connection with (lib/handlers/publish.js, lib/utils.js validateTopic, lib/client.js), so each is
 * counted with a reason like the ACL's (issue 16, item 8). null: not a refusal (a socket error, a
 * keepalive timeout) or one counted where it happened (the ACL's, the packet size guard's).
 */
const AEDES_REFUSALS: [RegExp, string][] = [
  [/^empty topic not allowed in PUBLISH|^impossible to \w+ to an empty topic/, 'empty_topic'],
  [/^[#+] is not allowed in PUBLISH/, 'wildcard_in_publish'],
  [/^[#+] is only allowed in/, 'bad_topic_filter'],
  [/^topic has too many levels/, 'too_many_levels'],
  [/topic is reserved/, 'system_topic'],
  [/^Client queue limit reached/, 'queue_limit'],
  [/^maxInflightInbound exceeded/, 'qos2_inflight_limit'],
  [/^Invalid protocol/, 'protocol_violation'],
  [/^connect did not arrive in time/, 'connect_timeout'],
];

export function aedesRefusalReason(message: string): string | null {
  for (const [pattern, reason] of AEDES_REFUSALS) if (pattern.test(message)) return reason;
  return null;
}

export interface RefusalCounting {
  metrics: Metrics;
  log: Logger;
  /** Warn lines per address (the broker's budget, shared with its other refusals). */
  logs: LogBudget;
  /** The remote address of a client's connection. */
  addressOf(client: Client): string;
}

export function countRefusals(aedes: Aedes, o: RefusalCounting): void {
  const { metrics, log, logs } = o;
  aedes.on('clientError', (client, err) => {
    metrics.inc('mqtt_client_errors_total');
    log.debug({ clientId: client?.id, err: err.message }, 'mqtt client error');
    // Aedes' own refusals: a reason label and a warn line each (issue 16, item 8).
    const reason = aedesRefusalReason(err.message);
    if (!reason) return;
    metrics.inc('mqtt_rejected_total', { reason });
    const address = o.addressOf(client);
    const budget = logs.take(address);
    if (budget)
      log.warn(
        {
          clientId: client.id,
          remote: address,
          reason,
          err: err.message.slice(0, 200),
          ...(budget.suppressed ? { suppressed: budget.suppressed } : {}),
        },
        'mqtt packet refused: connection closed',
      );
  });
  aedes.on('connectionError', (client, err) => {
    // The packet size guard counted and logged its own cut already.
    if (err.message.startsWith('MQTT packet over')) return;
    // A peer that hung up before its CONNECT is not a malformed packet.
    const reason = aedesRefusalReason(err.message) ?? (/ECONNRESET|EPIPE/.test(err.message) ? 'connection_reset' : 'malformed_packet');
    metrics.inc('mqtt_rejected_total', { reason });
    const address = o.addressOf(client);
    const budget = logs.take(address);
    if (budget)
      log.warn(
        {
          clientId: client?.id,
          remote: address,
          reason,
          err: err.message.slice(0, 200),
          ...(budget.suppressed ? { suppressed: budget.suppressed } : {}),
        },
        'mqtt connection error (malformed packet?)',
      );
  });
}
