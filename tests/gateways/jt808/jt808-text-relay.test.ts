// The text relay's rules, on an in-process bus that delivers every notice to every node as Redis
// does (the two-nodes system test runs it on real nodes and Redis): the node holding the terminal
// sends and answers; nobody holding it is `not_connected`; a claim with no answer is `no_reply`.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/logger.js';
import { Metrics } from '../../../common/metrics.js';
import type { NodeBus } from '../../../common/node-bus.js';
import type { TextOutcome } from '../../../gateways/jt808/jt808-gateway.js';
import { jt808TextRelay } from '../../../gateways/jt808/jt808-text-relay.js';

function busNetwork(): { join(): NodeBus; notices: string[] } {
  const wire = new EventEmitter();
  const notices: string[] = [];
  return {
    notices,
    join: () => ({
      emit: async (topic, payload) => {
        notices.push(topic);
        // Asynchronous, as a Redis round trip is.
        setImmediate(() => wire.emit(topic, payload));
      },
      on: (topic, handler) => void wire.on(topic, handler),
    }),
  };
}

function gatewayWith(devices: string[], answer: (deviceId: string) => Promise<TextOutcome> = async () => 'delivered') {
  const sent: { deviceId: string; text: string }[] = [];
  return {
    sent,
    has: (deviceId: string) => devices.includes(deviceId),
    sendText: async (deviceId: string, text: string): Promise<TextOutcome> => {
      if (!devices.includes(deviceId)) return 'not_connected';
      sent.push({ deviceId, text });
      return answer(deviceId);
    },
  };
}

const relayOn = (gateway: ReturnType<typeof gatewayWith>, bus: NodeBus | null, replyTimeoutMs = 1000) =>
  jt808TextRelay({ gateway, bus, replyTimeoutMs, claimMs: 100, metrics: new Metrics(), logger: silentLogger });

describe('JT/T 808 text relay', () => {
  it("sends through the node that holds the terminal and returns that terminal's answer", async () => {
    const net = busNetwork();
    const gwA = gatewayWith([]);
    const gwB = gatewayWith(['jt-1'], async () => 'unsupported');
    const a = relayOn(gwA, net.join());
    const b = relayOn(gwB, net.join());
    expect(await a.sendText('jt-1', '【新任务】')).toBe('unsupported');
    expect(gwB.sent).toEqual([{ deviceId: 'jt-1', text: '【新任务】' }]);
    a.stop();
    b.stop();
  });

  it('sends a terminal connected here directly, without asking the other nodes', async () => {
    const net = busNetwork();
    const gwA = gatewayWith(['jt-1']);
    const a = relayOn(gwA, net.join());
    expect(await a.sendText('jt-1', 'x')).toBe('delivered');
    expect(net.notices).toEqual([]);
    a.stop();
  });

  it('is not_connected when no node claims the terminal, on one node at once', async () => {
    const net = busNetwork();
    const a = relayOn(gatewayWith([]), net.join());
    const b = relayOn(gatewayWith(['jt-2']), net.join());
    const t = performance.now();
    expect(await a.sendText('jt-1', 'x')).toBe('not_connected');
    expect(performance.now() - t).toBeGreaterThanOrEqual(90);
    const alone = relayOn(gatewayWith([]), null);
    expect(await alone.sendText('jt-1', 'x')).toBe('not_connected');
    a.stop();
    b.stop();
  });

  it('is no_reply when the claiming node never answers, and only the asking node settles', async () => {
    const net = busNetwork();
    const silent = gatewayWith(['jt-1'], () => new Promise<TextOutcome>(() => undefined));
    const a = relayOn(gatewayWith([]), net.join(), 200);
    const b = relayOn(silent, net.join(), 200);
    const c = relayOn(gatewayWith([]), net.join(), 200);
    const t = performance.now();
    // Past the claim window: the claim keeps the request open for the terminal's reply time.
    expect(await a.sendText('jt-1', 'x')).toBe('no_reply');
    expect(performance.now() - t).toBeGreaterThanOrEqual(250);
    expect(silent.sent).toHaveLength(1);
    for (const r of [a, b, c]) r.stop();
  });
});
