// What Aedes reads from and writes to for one TCP connection: the bytes that passed the packet
// size guard in, and the socket out, with writes coalesced.
//
// Why not `Duplex.from({ readable, writable })`: mqtt-packet writes one packet as 3–5 small
// chunks (header, length, topic, id, payload) inside cork()/uncork(); Duplex.from has no _writev,
// so each chunk became its own socket write, i.e. its own syscall on a no-delay socket. A CPU
// profile of `bench:ingest` at 2,500 handsets showed 26 % of the process in the native write.
// Here the socket stays corked until the end of the current event-loop turn: every packet
// written to this connection in that turn (the PUBACK to a handset, or the hub's share of a burst
// of deliveries) leaves in one writev.
import type net from 'node:net';
import { Duplex, type Readable } from 'node:stream';

/**
 * Bytes a connection may hold in memory before Aedes is told to wait (its per-client drain
 * handling). A corked socket reports "full" at its 16 KB high-water mark although nothing is
 * wrong, and waiting for 'drain' there cost two event-loop turns per 16 KB: on a busy loop that
 * capped deliveries to the hub below the devices' rate. 1 MiB is ~7,000 fixes.
 */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export class MqttConnection extends Duplex {
  private corked = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly input: Readable,
  ) {
    super({ allowHalfOpen: false });
    input.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) input.pause();
    });
    input.on('end', () => this.push(null));
    input.on('error', (err) => this.destroy(err));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  override _read(): void {
    this.input.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.cork_();
    this.socket.write(chunk);
    this.whenRoom(done);
  }

  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    this.cork_();
    for (const c of chunks) this.socket.write(c.chunk);
    this.whenRoom(done);
  }

  /** Past the socket's own high-water mark its write() returned false, so 'drain' will come. */
  private whenRoom(done: (err?: Error | null) => void): void {
    if (this.socket.writableLength < MAX_BUFFERED_BYTES) done();
    else this.socket.once('drain', () => done());
  }

  override _final(done: (err?: Error | null) => void): void {
    this.socket.end(() => done());
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    // Aedes closes right after its last packet (a refusing CONNACK): hand that to the kernel first.
    if (this.corked) {
      this.corked = false;
      this.socket.uncork();
    }
    this.socket.destroy();
    done(err);
  }

  /** Corks the socket until the end of this event-loop turn. */
  private cork_(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    setImmediate(() => {
      if (!this.corked) return;
      this.corked = false;
      this.socket.uncork();
    });
  }
}
