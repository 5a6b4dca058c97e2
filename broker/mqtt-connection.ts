// What Aedes reads from and writes to for one TCP connection: the socket's bytes once the packet
// size guard passed them, and the socket out, with writes coalesced.
//
// In: the guard is a check on each chunk, not a stream of its own, so a chunk goes through Node's
// stream machinery once (this Duplex, which Aedes reads), not twice.
//
// Out: mqtt-packet writes one packet as 3–5 small chunks (header, length, topic, id, payload).
// Each written alone was its own syscall on a no-delay socket (26 % of the process in the native
// write in `bench:ingest` at 2,500 handsets, with `Duplex.from`, which has no _writev). They are
// collected here until the end of the event-loop turn, and one `WriteFlusher` per broker (one
// setImmediate for every connection that wrote in the turn) hands each connection's bytes to its
// socket as one Buffer in one write: the PUBACK to a handset, or the hub's share of a burst of
// deliveries. Corking each socket and uncorking it from a setImmediate of its own, as before, cost
// a timer, the cork bookkeeping and a writev array per connection per fix (processImmediate 21 %,
// Socket._writeGeneric 19 % of the node's busy time at 2,500 fixes/s).
import type net from 'node:net';
import { Duplex } from 'node:stream';
import type { PacketSizeGuard } from './packet-size-guard.js';

/**
 * Bytes a connection may hold in memory before Aedes is told to wait (its per-client drain
 * handling). Holding a turn's writes, a connection would report "full" at the socket's 16 KB
 * high-water mark although nothing is wrong, and waiting for 'drain' there cost two event-loop
 * turns per 16 KB: on a busy loop that capped deliveries to the hub below the devices' rate.
 * 1 MiB is ~7,000 fixes.
 */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

/** Writes, once per event-loop turn, the bytes of every connection that wrote during the turn. */
export class WriteFlusher {
  private due: MqttConnection[] = [];
  private spare: MqttConnection[] = [];
  private scheduled = false;

  /** `conn` has bytes waiting: they go out at the end of this turn. */
  schedule(conn: MqttConnection): void {
    this.due.push(conn);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const due = this.due;
    this.due = this.spare;
    for (const conn of due) conn.flush();
    due.length = 0;
    this.spare = due;
  };
}

export class MqttConnection extends Duplex {
  /** Chunks written since the last flush, in order, and their size. */
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The socket was paused because Aedes stopped reading (the database away: issue 13). */
  private socketPaused = false;

  constructor(
    private readonly socket: net.Socket,
    guard: PacketSizeGuard,
    private readonly flusher: WriteFlusher,
  ) {
    super({ allowHalfOpen: false });
    socket.on('data', (chunk: Buffer) => {
      const refused = guard.check(chunk);
      if (refused) this.destroy(refused);
      else if (!this.push(chunk)) {
        this.socketPaused = true;
        socket.pause();
      }
    });
    socket.on('end', () => {
      guard.stop();
      this.push(null);
    });
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => {
      guard.stop();
      this.destroy();
    });
  }

  override _read(): void {
    if (!this.socketPaused) return;
    this.socketPaused = false;
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.hold(chunk);
    this.whenRoom(done);
  }

  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    for (const c of chunks) this.hold(c.chunk);
    this.whenRoom(done);
  }

  /** Hands the bytes written since the last flush to the socket, as one write. */
  flush(): void {
    const n = this.pending.length;
    if (n === 0) return;
    const bytes = n === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending.length = 0;
    this.pendingBytes = 0;
    // A socket already gone (closed by the peer, the idle limit, a size cut) closes this connection.
    if (this.socket.writable) this.socket.write(bytes);
  }

  private hold(chunk: Buffer): void {
    if (this.pending.length === 0) this.flusher.schedule(this);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
  }

  /** Past the limit the bytes go to the socket now; its write() returned false, so 'drain' will come. */
  private whenRoom(done: (err?: Error | null) => void): void {
    if (this.pendingBytes + this.socket.writableLength < MAX_BUFFERED_BYTES) return done();
    this.flush();
    if (this.socket.writableLength < MAX_BUFFERED_BYTES) done();
    else this.socket.once('drain', () => done());
  }

  override _final(done: (err?: Error | null) => void): void {
    this.flush();
    this.socket.end(() => done());
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    // Aedes closes right after its last packet (a refusing CONNACK): hand that to the kernel first.
    this.flush();
    this.socket.destroy();
    done(err);
  }
}
