// The hub's service list (hub/hub-services.ts): started in order, stopped in reverse, and a start
// that fails part-way stops what it had started and names the service that failed.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { serviceOf, ServiceList, ServiceStartError, type HubService } from '../../hub/hub-services.js';

/** Services that write what happens to them into one log; `failStart`/`failStop` name the ones that throw. */
function recorded(names: string[], opts: { failStart?: string; failStop?: string } = {}) {
  const log: string[] = [];
  const services: HubService[] = names.map((name) => ({
    name,
    async start() {
      await Promise.resolve(); // a real start awaits something: the next one must wait for it
      if (name === opts.failStart) throw new Error(`${name} cannot reach the database`);
      log.push(`start ${name}`);
    },
    stop() {
      log.push(`stop ${name}`);
      if (name === opts.failStop) throw new Error(`${name} stop failed`);
    },
  }));
  return { log, list: new ServiceList(services, silentLogger) };
}

describe('hub service list', () => {
  it('starts in list order and stops in reverse order', async () => {
    const { log, list } = recorded(['directory', 'http', 'push', 'dispatch', 'ingest']);
    await list.start();
    expect(log).toEqual(['start directory', 'start http', 'start push', 'start dispatch', 'start ingest']);
    log.length = 0;
    await list.stop();
    expect(log).toEqual(['stop ingest', 'stop dispatch', 'stop push', 'stop http', 'stop directory']);
  });

  it('a failure in the middle stops the ones already started, in reverse, and the error names the service', async () => {
    const { log, list } = recorded(['directory', 'http', 'push', 'dispatch', 'ingest'], { failStart: 'push' });
    const err = await list.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceStartError);
    expect((err as ServiceStartError).service).toBe('push');
    expect((err as Error).message).toBe('hub service "push" failed to start: push cannot reach the database');
    expect(((err as Error).cause as Error).message).toBe('push cannot reach the database');
    // Neither the failed one nor the ones after it are started or stopped.
    expect(log).toEqual(['start directory', 'start http', 'stop http', 'stop directory']);
    // A stop after the failed start has nothing left to stop.
    log.length = 0;
    await list.stop();
    expect(log).toEqual([]);
  });

  it('a stop that fails does not keep the others running; the failure is thrown after all stopped', async () => {
    const { log, list } = recorded(['a', 'b', 'c'], { failStop: 'b' });
    await list.start();
    log.length = 0;
    await expect(list.stop()).rejects.toThrow('b stop failed');
    expect(log).toEqual(['stop c', 'stop b', 'stop a']);
    // Stopping twice stops nothing twice.
    log.length = 0;
    await list.stop();
    expect(log).toEqual([]);
  });

  it('serviceOf: what a start hands back is undone at stop, in the order given', async () => {
    const log: string[] = [];
    const list = new ServiceList(
      [
        serviceOf('push', () => {
          log.push('start push');
          return [() => void log.push('unsubscribe push'), async () => void log.push('close push')];
        }),
      ],
      silentLogger,
    );
    await list.start();
    await list.stop();
    expect(log).toEqual(['start push', 'unsubscribe push', 'close push']);
  });
});
