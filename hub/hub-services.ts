// The hub's services as one ordered list (issue 17, item 5; zigbee2mqtt's controller starts its
// extensions the same way): started in order, stopped in reverse, so whatever a service needs was
// started before it and is still running while it stops. A service that fails to start stops the
// ones started before it, and the error names it; nothing is left running half-wired.
import type { Logger } from '../common/logger.js';

export interface HubService {
  /** For logs and the start error: "dispatch", "http", … */
  readonly name: string;
  start(): void | Promise<void>;
  /** Absent: nothing to stop (a load done once at start). */
  stop?(): void | Promise<void>;
}

export class ServiceStartError extends Error {
  constructor(
    readonly service: string,
    cause: unknown,
  ) {
    super(`hub service "${service}" failed to start: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ServiceStartError';
  }
}

export class ServiceList {
  /** The services started so far, in start order. */
  private readonly started: HubService[] = [];

  constructor(
    private readonly services: readonly HubService[],
    private readonly log: Logger,
  ) {}

  /** Starts each in order; on a failure stops those already started (in reverse) and throws `ServiceStartError`. */
  async start(): Promise<void> {
    for (const s of this.services) {
      try {
        await s.start();
      } catch (err) {
        this.log.error({ service: s.name, err: (err as Error).message }, 'service failed to start; stopping those already started');
        await this.stop().catch(() => undefined); // each failure is logged by stop
        throw new ServiceStartError(s.name, err);
      }
      this.started.push(s);
    }
  }

  /**
   * Stops the started services in reverse order. A service whose stop fails does not keep the
   * others running: all are stopped, then the first failure is thrown.
   */
  async stop(): Promise<void> {
    let failure: { err: unknown } | null = null;
    for (let s = this.started.pop(); s; s = this.started.pop()) {
      try {
        await s.stop?.();
      } catch (err) {
        this.log.error({ service: s.name, err: (err as Error).message }, 'service failed to stop');
        failure ??= { err };
      }
    }
    if (failure) throw failure.err;
  }
}

/** What a service's start hands back to undo at stop: unsubscribes, closes; run in the order given. */
export type Undo = () => void | Promise<void>;

/**
 * A service whose start returns its undos (its bus subscriptions, then its own stop), so what it
 * subscribed to cannot outlive it.
 */
export function serviceOf(name: string, start: () => Undo[] | Promise<Undo[]>): HubService {
  let undos: Undo[] = [];
  return {
    name,
    start: async () => {
      undos = await start();
    },
    stop: async () => {
      for (const undo of undos.splice(0)) await undo();
    },
  };
}
