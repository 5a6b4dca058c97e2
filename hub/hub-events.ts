// The hub's event bus: what one service tells the others (issue 17, item 5). Before it, hub.ts
// handed each service callbacks into the others, one of them a closure over the push that did not
// exist yet. Now a service announces what happened and whoever cares listens; the map below is the
// whole vocabulary, so a misspelt event or a wrong payload does not typecheck.
//
// Why not Node's EventEmitter: its emit neither waits for async listeners nor reports their
// failures, and two of these events are awaited by their sender (an HTTP reply waits until the hub
// reloaded the regions; the broker hears of a device change only after the hub reloaded it).
import type { Logger } from '../common/logger.js';
import type { AlarmView, IncidentView } from '../protocol/socket-events.js';
import type { DeviceChange } from '../protocol/device-api.js';
import type { Rows } from './rows/row-types.js';
import type { Duty } from './people/worker-store.js';

/** What changed in the tables the hub holds in memory (devices, grids, workers). */
export type RegistryChange = { kind: 'regions' } | { kind: 'workers' } | { kind: 'device'; deviceId: string; change: DeviceChange };

/** Event name → the listener's arguments. */
export interface HubEvents {
  /** A batch of device rows is committed (its devices are acknowledged already). */
  rowsCommitted: [rows: Rows, committedAt: number];
  /** Dispatch committed a change to an incident, or re-announces an open one at start. */
  incidentChanged: [view: IncidentView];
  /** An alarm was raised or acknowledged, or an open one is re-announced at start. */
  alarmChanged: [view: AlarmView];
  /** Devices, regions or workers changed in the database: what is held in memory must be reloaded. */
  registryChanged: [change: RegistryChange];
  /** An operator's duty change for a worker is committed (`PUT /api/workers/:id/duty`). */
  dutyChanged: [workerId: string, duty: Duty];
  /** A handset listens for tasks on this node with nothing queued for it here (the broker's onTasksListener). */
  tasksListener: [deviceId: string];
}

export type HubEventName = keyof HubEvents;
export type HubListener<K extends HubEventName> = (...args: HubEvents[K]) => void | Promise<void>;

export class HubBus {
  private readonly listeners: { [K in HubEventName]?: HubListener<K>[] } = {};

  /** `log` takes the failures of listeners whose sender does not wait (`tell`). */
  constructor(private readonly log?: Logger) {}

  /** Listens from now on; returns the way to stop listening (a service's stop calls it). */
  on<K extends HubEventName>(name: K, listener: HubListener<K>): () => void {
    const list: HubListener<K>[] = (this.listeners[name] ??= []);
    list.push(listener);
    return () => {
      const i = list.indexOf(listener);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /**
   * Calls the listeners in the order they were added, each after the previous one's promise
   * settled; resolves when all ran, rejects with the first failure (the later ones then do not run,
   * as with the sequential calls this replaces). Listeners that return nothing run before emit
   * returns, so a synchronous sender (the batch writer's commit) sees them done.
   */
  emit<K extends HubEventName>(name: K, ...args: HubEvents[K]): Promise<void> {
    // A copy: a listener that unsubscribes (a one-shot waiter) must not make the next one skipped.
    const list = [...(this.listeners[name] ?? [])] as HubListener<K>[];
    for (let i = 0; i < list.length; i++) {
      let result: void | Promise<void>;
      try {
        result = list[i]!(...args);
      } catch (err) {
        return Promise.reject(err);
      }
      if (result instanceof Promise) return result.then(() => runFrom(list, i + 1, args));
    }
    return Promise.resolve();
  }

  /** For a sender that does not wait (a commit, a dispatch decision): a listener's failure is logged, never thrown back. */
  tell<K extends HubEventName>(name: K, ...args: HubEvents[K]): void {
    this.emit(name, ...args).catch((err: unknown) =>
      this.log?.error({ event: name, err: (err as Error).message }, 'event listener failed'),
    );
  }
}

async function runFrom<K extends HubEventName>(list: HubListener<K>[], from: number, args: HubEvents[K]): Promise<void> {
  for (let i = from; i < list.length; i++) await list[i]!(...args);
}
