// The hub's event bus (hub/hub-events.ts): typed by its event map, listeners in the order they
// were added, async ones awaited one after the other, synchronous ones done before emit returns.
import { describe, expect, it } from 'vitest';
import { HubBus } from '../../hub/hub-events.js';
import type { Logger } from '../../common/logger.js';
import type { IncidentView } from '../../protocol/socket-events.js';
import { emptyRows } from '../../hub/rows/row-types.js';

describe('hub event bus', () => {
  it('is typed by the event map: an unknown event or a wrong payload does not compile', () => {
    const bus = new HubBus();
    // The checks are tsc's (`npx tsc -p .` includes tests); at run time they only listen.
    // @ts-expect-error no such event
    bus.on('rowsComitted', () => undefined);
    // @ts-expect-error the duty is 'on' | 'off'
    void bus.emit('dutyChanged', 'w-1', 'maybe');
    // @ts-expect-error a registry change says what changed
    void bus.emit('registryChanged', { kind: 'grids' });
    const got: number[] = [];
    bus.on('rowsCommitted', (rows, at) => void got.push(rows.positions.length, at));
    void bus.emit('rowsCommitted', emptyRows(), 42);
    expect(got).toEqual([0, 42]);
  });

  it('synchronous listeners run in order before emit returns (the batch writer sends from sync code)', () => {
    const bus = new HubBus();
    const heard: string[] = [];
    bus.on('rowsCommitted', (_rows, at) => void heard.push(`push ${at}`));
    bus.on('rowsCommitted', (_rows, at) => void heard.push(`dispatch ${at}`));
    void bus.emit('rowsCommitted', emptyRows(), 7);
    expect(heard).toEqual(['push 7', 'dispatch 7']);
  });

  it('an async listener is awaited before the next runs, and emit resolves after the last', async () => {
    const bus = new HubBus();
    const heard: string[] = [];
    let release!: () => void;
    const reloaded = new Promise<void>((r) => (release = r));
    bus.on('registryChanged', async (c) => {
      heard.push(`reload ${c.kind}`);
      await reloaded;
      heard.push('reloaded');
    });
    bus.on('registryChanged', (c) => void heard.push(`broker ${c.kind === 'device' ? c.deviceId : c.kind}`));
    let done = false;
    const sent = bus.emit('registryChanged', { kind: 'device', deviceId: 'hs-1', change: 'disabled' }).then(() => (done = true));
    await Promise.resolve();
    expect(heard).toEqual(['reload device']);
    expect(done).toBe(false);
    release();
    await sent;
    expect(heard).toEqual(['reload device', 'reloaded', 'broker hs-1']);
  });

  it('rejects with the first failure, and the listeners after it do not run', async () => {
    const bus = new HubBus();
    const heard: string[] = [];
    bus.on('dutyChanged', () => {
      throw new Error('live state broke');
    });
    bus.on('dutyChanged', (id) => void heard.push(id));
    await expect(bus.emit('dutyChanged', 'w-1', 'on')).rejects.toThrow('live state broke');
    expect(heard).toEqual([]);
  });

  it('tell (a sender that does not wait): a failing listener is logged, never thrown back to the sender', async () => {
    const logged: unknown[] = [];
    const log = { error: (fields: unknown) => void logged.push(fields) } as unknown as Logger;
    const bus = new HubBus(log);
    bus.on('incidentChanged', () => {
      throw new Error('screen push broke');
    });
    expect(() => bus.tell('incidentChanged', { id: 'I1' } as IncidentView)).not.toThrow();
    await new Promise((r) => setImmediate(r));
    expect(logged).toEqual([{ event: 'incidentChanged', err: 'screen push broke' }]);
  });

  it('unsubscribing stops a listener, also from inside an emit without skipping the next one', async () => {
    const bus = new HubBus();
    const heard: string[] = [];
    const off = bus.on('dutyChanged', () => {
      heard.push('once');
      off();
    });
    bus.on('dutyChanged', () => void heard.push('always'));
    await bus.emit('dutyChanged', 'w-1', 'on');
    await bus.emit('dutyChanged', 'w-1', 'off');
    expect(heard).toEqual(['once', 'always', 'always']);
  });
});
