// What one MQTT connection may make the broker hold, measured on the bytes before Aedes parses them.
//
// Aedes has no maximum packet size of its own, so an oversize or endless packet would be buffered
// whole; like mosquitto's message_size_limit we close the connection as soon as the fixed header
// announces too much. Before the connection is authenticated the cap is much smaller and counts
// every byte read so far: a CONNECT is a few hundred bytes (id, device secret, a presence will),
// and 200 sockets each sending 1.04 MB of an unfinished CONNECT held 200 MB until the connect
// timeout (issue 16, item 4). Clients we know (MQTT.js, Paho) send nothing else before the CONNACK.
//
// The guard also sees where each packet starts, so it keeps the server's idle limit for clients
// whose keepalive does not (keepalive 0 means "never" in MQTT 3.1.1 §3.1.2.10, issue 16, item 5).
// `UnauthenticatedConnections` caps how many connections may be waiting for their CONNACK at once.
import { Transform, type TransformCallback } from 'node:stream';

/** Bytes a client may send before its CONNACK: the CONNECT and anything pipelined after it. */
export const PRE_AUTH_MAX_BYTES = 8 * 1024;

/** Why a packet was cut: too large for an authenticated client, or before authentication. */
export type OversizeKind = 'oversize_packet' | 'oversize_connect';

export class PacketSizeGuard extends Transform {
  /** Bytes still to pass through for the packet being read. */
  private remaining = 0;
  /** Fixed-header bytes collected while between packets. */
  private header: number[] = [];
  /** Bytes taken so far; only counted before authentication. */
  private taken = 0;
  private authenticatedYet = false;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly maxBytes: number,
    private readonly onOversize: (announced: number, kind: OversizeKind, max: number) => void,
    private readonly preAuthMaxBytes = Number.POSITIVE_INFINITY,
  ) {
    super();
  }

  /** The CONNACK accepted the client: from now on each packet is measured against `maxBytes`. */
  authenticated(): void {
    this.authenticatedYet = true;
  }

  /**
   * Calls `onIdle` once no packet has started for `ms` (timer restarted at every packet). For
   * clients whose own keepalive Aedes does not enforce: keepalive 0, or more than the maximum.
   */
  closeWhenIdle(ms: number, onIdle: () => void): void {
    this.stopIdleTimer();
    this.idleTimer = setTimeout(onIdle, ms);
    this.idleTimer.unref();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        continue;
      }
      this.header.push(chunk[i]!);
      i++;
      const len = this.announcedLength();
      if (len === 'more') continue;
      const preAuth = !this.authenticatedYet;
      const max = preAuth ? this.preAuthMaxBytes : this.maxBytes;
      // Before authentication the whole stream so far counts, not only this packet.
      const cost = len === 'bad' ? Number.POSITIVE_INFINITY : preAuth ? this.taken + this.header.length + len : len;
      if (len === 'bad' || cost > max) {
        this.onOversize(
          len === 'bad' ? -1 : len,
          preAuth && this.preAuthMaxBytes < this.maxBytes ? 'oversize_connect' : 'oversize_packet',
          max,
        );
        done(new Error(`MQTT packet over ${max} bytes`));
        return;
      }
      if (preAuth) this.taken += this.header.length + len;
      this.idleTimer?.refresh();
      this.remaining = len;
      this.header = [];
    }
    done(null, chunk);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.stopIdleTimer();
    done(err);
  }

  override _flush(done: TransformCallback): void {
    this.stopIdleTimer();
    done();
  }

  private stopIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  /** Remaining Length of the fixed header (MQTT 3.1.1 §2.2.3), once all its bytes are in. */
  private announcedLength(): number | 'more' | 'bad' {
    if (this.header.length < 2) return 'more';
    let value = 0;
    let mult = 1;
    for (let j = 1; j < this.header.length; j++) {
      const b = this.header[j]!;
      value += (b & 0x7f) * mult;
      if ((b & 0x80) === 0) return value;
      mult *= 128;
      if (j >= 4) return 'bad';
    }
    return 'more';
  }
}

export interface UnauthenticatedLimits {
  /** Connections waiting for their CONNACK at once, over all addresses. */
  total: number;
  /** The same from one address: one host cannot take every slot (a carrier NAT shares one
   *  address between many handsets, hence not much lower). */
  perAddress: number;
}

export const DEFAULT_UNAUTHENTICATED: UnauthenticatedLimits = { total: 4096, perAddress: 256 };

/**
 * Connections accepted and not yet authenticated. Each costs at most PRE_AUTH_MAX_BYTES of
 * buffered packet plus its socket's buffers, until its CONNACK or the connect timeout; beyond the
 * cap a new connection is closed at once (mosquitto's max_connections, nginx's limit_conn).
 */
export class UnauthenticatedConnections {
  private readonly byAddress = new Map<string, number>();
  private readonly open = new WeakMap<object, string>();
  private count = 0;

  constructor(private readonly limits: UnauthenticatedLimits) {}

  get size(): number {
    return this.count;
  }

  /** Takes a slot for `conn`, or says why not. */
  admit(conn: object, address: string): 'total' | 'address' | null {
    if (this.count >= this.limits.total) return 'total';
    const mine = this.byAddress.get(address) ?? 0;
    if (mine >= this.limits.perAddress) return 'address';
    this.byAddress.set(address, mine + 1);
    this.open.set(conn, address);
    this.count++;
    return null;
  }

  /** Frees the slot (authenticated, or closed); idempotent. */
  release(conn: object): void {
    const address = this.open.get(conn);
    if (address === undefined) return;
    this.open.delete(conn);
    this.count--;
    const left = (this.byAddress.get(address) ?? 1) - 1;
    if (left <= 0) this.byAddress.delete(address);
    else this.byAddress.set(address, left);
  }
}
