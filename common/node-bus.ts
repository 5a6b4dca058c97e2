// Notices every node hears, this one too: the broker's emitter, which crosses nodes through Redis
// when there are several (broker/routed-mq.ts; RunningBroker.bus). For modules that are not the
// broker's and must reach another node (gateways/jt808/jt808-text-relay.ts).
export interface NodeBus {
  emit(topic: string, payload: Buffer): Promise<void>;
  on(topic: string, handler: (payload: Buffer) => void): void;
}

/** A notice's JSON, or null (logged) when it cannot be read: only nodes publish `$GRID/…`, still a bad one never throws. */
export function readNotice<T>(payload: Buffer, log: { warn(fields: object, msg: string): void }, what: string): T | null {
  try {
    return JSON.parse(payload.toString()) as T;
  } catch {
    log.warn({ bytes: payload.length }, `unreadable cross-node ${what} notice ignored`);
    return null;
  }
}
