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
//
// Not a stream: `MqttConnection` calls `check` on each chunk the socket reads before pushing it to
// Aedes. As a Transform between socket and connection, every chunk went through Node's stream
// machinery twice (piped write, transform, push, 'data'); that machinery was ~12 % of the node's
// busy time in `bench:ingest` at 2,500 handsets.

/** Bytes a client may send before its CONNACK: the CONNECT and anything pipelined after it. */
export const PRE_AUTH_MAX_BYTES = 8 * 1024;

/** Why a packet was cut: too large for an authenticated client, or before authentication. */
export type OversizeKind = 'oversize_packet' | 'oversize_connect';

export class PacketSizeGuard {
  /** Bytes still to pass through for the packet being read. */
  private remaining = 0;
  /** Fixed-header bytes seen of the next packet (0: between packets). */
  private headerBytes = 0;
  /** Remaining Length decoded so far from those bytes, and the weight of the next one. */
  private length = 0;
  private weight = 1;
  /** Bytes taken so far; only counted before authentication. */
  private taken = 0;
  private authenticatedYet = false;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly maxBytes: number,
    private readonly onOversize: (announced: number, kind: OversizeKind, max: number) => void,
    private readonly preAuthMaxBytes = Number.POSITIVE_INFINITY,
  ) {}

  /** The CONNACK accepted the client: from now on each packet is measured against `maxBytes`. */
  authenticated(): void {
    this.authenticatedYet = true;
  }

  /**
   * Calls `onIdle` once no packet has started for `ms` (timer restarted at every packet). For
   * clients whose own keepalive Aedes does not enforce: keepalive 0, or more than the maximum.
   */
  closeWhenIdle(ms: number, onIdle: () => void): void {
    this.stop();
    this.idleTimer = setTimeout(onIdle, ms);
    this.idleTimer.unref();
  }

  /** The connection ended: no idle limit any more. */
  stop(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  /**
   * Looks at the next bytes read from the client. Null when they may pass; otherwise `onOversize`
   * was called and the error to close the connection with is returned (nothing of `chunk` passes).
   */
  check(chunk: Buffer): Error | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        continue;
      }
      const b = chunk[i]!;
      i++;
      if (this.headerBytes++ === 0) {
        // The packet type byte.
        this.length = 0;
        this.weight = 1;
        continue;
      }
      // Remaining Length (MQTT 3.1.1 §2.2.3): at most four bytes, the last without bit 7.
      this.length += (b & 0x7f) * this.weight;
      const bad = (b & 0x80) !== 0 && this.headerBytes >= 5;
      if (!bad && (b & 0x80) !== 0) {
        this.weight *= 128;
        continue;
      }
      const preAuth = !this.authenticatedYet;
      const max = preAuth ? this.preAuthMaxBytes : this.maxBytes;
      // Before authentication the whole stream so far counts, not only this packet.
      const cost = preAuth ? this.taken + this.headerBytes + this.length : this.length;
      if (bad || cost > max) {
        this.onOversize(
          bad ? -1 : this.length,
          preAuth && this.preAuthMaxBytes < this.maxBytes ? 'oversize_connect' : 'oversize_packet',
          max,
        );
        return new Error(`MQTT packet over ${max} bytes`);
      }
      if (preAuth) this.taken += this.headerBytes + this.length;
      this.idleTimer?.refresh();
      this.remaining = this.length;
      this.headerBytes = 0;
    }
    return null;
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
