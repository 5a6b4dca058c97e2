// The connection stream Aedes reads and writes (broker/mqtt-connection.ts) over a real TCP socket
// pair: a turn's writes leave in one socket write and in order, a write past the limit waits for
// 'drain', and a reader that stops holds the socket back (how a database outage reaches devices).
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_BUFFERED_BYTES, MqttConnection, WriteFlusher } from '../../broker/mqtt-connection.js';
import { PacketSizeGuard } from '../../broker/packet-size-guard.js';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A connected socket pair: `server` wrapped in an MqttConnection, `client` the peer. */
async function pair(
  flusher = new WriteFlusher(),
  maxPacket = 64 * 1024 * 1024,
): Promise<{ conn: MqttConnection; server: net.Socket; client: net.Socket }> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as net.AddressInfo;
  const client = net.connect(port, '127.0.0.1');
  const [server] = (await once(srv, 'connection')) as [net.Socket];
  const guard = new PacketSizeGuard(maxPacket, () => undefined);
  guard.authenticated();
  const conn = new MqttConnection(server, guard, flusher);
  conn.on('error', () => undefined);
  closers.push(() => {
    client.destroy();
    conn.destroy();
    srv.close();
  });
  return { conn, server, client };
}

/** Reads `n` bytes from `client`. */
async function receive(client: net.Socket, n: number): Promise<Buffer> {
  const got: Buffer[] = [];
  let len = 0;
  for await (const chunk of client) {
    got.push(chunk as Buffer);
    len += (chunk as Buffer).length;
    if (len >= n) break;
  }
  return Buffer.concat(got);
}

/** A PUBLISH of `bodyBytes` bytes filled with `fill` (Remaining Length in up to 4 bytes). */
function publish(bodyBytes: number, fill: number): Buffer {
  const len: number[] = [];
  let x = bodyBytes;
  do {
    let b = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) b |= 0x80;
    len.push(b);
  } while (x > 0);
  return Buffer.concat([Buffer.from([0x30, ...len]), Buffer.alloc(bodyBytes, fill)]);
}

describe('MqttConnection', () => {
  it("writes every chunk of a turn, of two connections' packets, in one socket write each, in order", async () => {
    const flusher = new WriteFlusher();
    const a = await pair(flusher);
    const b = await pair(flusher);
    const writesA = vi.spyOn(a.server, 'write');
    const writesB = vi.spyOn(b.server, 'write');
    // As mqtt-packet writes a PUBACK (header, length, id), twice, and one to the other connection.
    for (const part of [[0x40], [0x02], [0x00, 0x01], [0x40], [0x02], [0x00, 0x02]]) a.conn.write(Buffer.from(part));
    b.conn.write(Buffer.from([0x40, 0x02, 0x00, 0x03]));
    expect(writesA).not.toHaveBeenCalled(); // held until the end of the turn
    const [gotA, gotB] = await Promise.all([receive(a.client, 8), receive(b.client, 4)]);
    expect([...gotA]).toEqual([0x40, 0x02, 0x00, 0x01, 0x40, 0x02, 0x00, 0x02]);
    expect([...gotB]).toEqual([0x40, 0x02, 0x00, 0x03]);
    expect(writesA).toHaveBeenCalledTimes(1);
    expect(writesB).toHaveBeenCalledTimes(1);
  });

  it("a write past the limit goes out at once and its callback waits for the socket's 'drain'", async () => {
    const { conn, client } = await pair();
    client.pause(); // the peer reads nothing: the kernel's buffers fill up
    const first = Buffer.from([1, 2, 3]);
    const big = Buffer.alloc(8 * MAX_BUFFERED_BYTES, 7);
    let bigDone = false;
    conn.write(first);
    const written = new Promise<void>((resolve) =>
      conn.write(big, () => {
        bigDone = true;
        resolve();
      }),
    );
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    expect(bigDone).toBe(false);
    const got = receive(client, first.length + big.length);
    client.resume();
    await written;
    const bytes = await got;
    expect(bytes.length).toBe(first.length + big.length);
    expect([...bytes.subarray(0, 4)]).toEqual([1, 2, 3, 7]);
  });

  it('a reader that stops pauses the socket; reading again resumes it, every byte in order', async () => {
    const { conn, server, client } = await pair();
    const sent = Buffer.concat(Array.from({ length: 64 }, (_, i) => publish(16 * 1024, i)));
    client.write(sent);
    // Nobody reads the connection (Aedes waiting for a commit): the socket stops being read.
    await new Promise<void>((resolve) => {
      const paused = (): void => {
        if (!server.isPaused()) return;
        server.off('data', paused);
        resolve();
      };
      server.on('data', paused);
    });
    expect(conn.readableLength).toBeLessThan(sent.length / 4);
    const got: Buffer[] = [];
    let len = 0;
    while (len < sent.length) {
      const chunk = conn.read() as Buffer | null;
      if (chunk) {
        got.push(chunk);
        len += chunk.length;
      } else await once(conn, 'readable');
    }
    expect(Buffer.concat(got).equals(sent)).toBe(true);
  });

  it('a packet over the cap destroys the connection with the guard error, passing none of its bytes', async () => {
    const { conn, client } = await pair(new WriteFlusher(), 1000);
    const readBytes: number[] = [];
    conn.on('data', (b: Buffer) => readBytes.push(b.length));
    client.write(Buffer.concat([publish(10, 1), publish(1001, 2)]));
    const [err] = (await once(conn, 'error')) as [Error];
    expect(err.message).toBe('MQTT packet over 1000 bytes');
    expect(readBytes).toEqual([]);
  });
});
