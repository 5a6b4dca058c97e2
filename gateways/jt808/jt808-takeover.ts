// A JT/T 808 terminal that reconnects through the load balancer to another node takes over there
// (issue 14: "a handset that reconnects to another node takes over its session, the old connection
// is closed"), as an MQTT client does through Aedes' takeover notice. A phone that changed networks
// leaves a half-open socket on the old node until its idle timeout (3 min); meanwhile that node
// would claim the terminal's texts and send them into the dead socket, and its timeout would store
// the device offline while it is online on the new node.
//
// Each authentication is announced to every node over the cross-node bus; a node holding an older
// connection of the terminal closes it as replaced, which stores no offline presence.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../common/logger.js';
import type { Metrics } from '../../common/metrics.js';
import { readNotice, type NodeBus } from '../../common/node-bus.js';

export const CLAIMED_TOPIC = '$GRID/jt808/claimed';

interface ClaimNotice {
  from: string;
  deviceId: string;
  at: number;
}

export interface TakeoverOptions {
  gateway: {
    onClaim(listener: (deviceId: string, at: number) => void): void;
    release(deviceId: string, at: number): boolean;
  };
  bus: NodeBus;
  metrics: Metrics;
  logger: Logger;
}

export function jt808Takeover(o: TakeoverOptions): void {
  const node = randomUUID();
  const log = o.logger.child({ mod: 'jt808-takeover' });
  o.metrics.describe('jt808_taken_over_total', 'JT/T 808 connections closed because the terminal connected to another node');
  o.gateway.onClaim((deviceId, at) => {
    const notice: ClaimNotice = { from: node, deviceId, at };
    o.bus.emit(CLAIMED_TOPIC, Buffer.from(JSON.stringify(notice))).catch((err: Error) => {
      // Redis away: the old node keeps its connection until the terminal's idle timeout, as before.
      log.warn({ err: err.message, deviceId }, 'takeover notice not sent; the old connection stays until its idle timeout');
    });
  });
  o.bus.on(CLAIMED_TOPIC, (payload) => {
    const notice = readNotice<ClaimNotice>(payload, log, 'takeover');
    if (!notice) return;
    if (notice.from === node || typeof notice.deviceId !== 'string' || typeof notice.at !== 'number') return;
    if (!o.gateway.release(notice.deviceId, notice.at)) return;
    o.metrics.inc('jt808_taken_over_total');
    log.info({ deviceId: notice.deviceId }, 'terminal connected to another node: old connection closed');
  });
}
