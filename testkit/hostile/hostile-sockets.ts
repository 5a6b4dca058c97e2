// Raw sockets that do what no MQTT client library will: unfinished or oversize CONNECTs, packets
// written byte by byte, silence. Loopback only.
import net from 'node:net';
import mqttPacket from 'mqtt-packet';

/** MQTT 3.1.1 §2.2.3 Remaining Length. */
export function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/**
 * The start of a CONNECT that announces `announced` bytes after its fixed header: a valid variable
 * header, then a client id whose length runs to the end of the packet; the caller sends as much of
 * it as it likes and never the rest.
 */
export function connectPrefix(announced: number): Buffer {
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c]);
  const idLen = Math.min(0xffff, announced - variable.length - 2);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(announced), variable, Buffer.from([idLen >> 8, idLen & 0xff])]);
}

export interface OpenSocket {
  socket: net.Socket;
  /** Resolves when the server closed it (or it errored). */
  closed: Promise<void>;
  /** Bytes the kernel accepted from us before the server closed. */
  written(): number;
}

/** `from`: a loopback source address (127.0.0.x) to look like another host. */
export function openSocket(port: number, from?: string): Promise<OpenSocket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, ...(from ? { localAddress: from } : {}) });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => undefined); // ECONNRESET when the server cuts us off is the point
    // Read (and drop, unless someone listens) whatever comes: an unread socket never sees the
    // server's FIN, so 'close' would never come.
    socket.resume();
    socket.once('connect', () => resolve({ socket, closed, written: () => socket.bytesWritten }));
    socket.once('error', reject);
  });
}

/** Writes `bytes` of filler in chunks, stopping early if the server closes the socket. */
export async function writeFiller(s: OpenSocket, bytes: number, chunk = 64 * 1024): Promise<void> {
  const block = Buffer.alloc(chunk, 0x61);
  let left = bytes;
  while (left > 0 && !s.socket.destroyed) {
    const n = Math.min(left, chunk);
    left -= n;
    const ok = s.socket.write(n === chunk ? block : block.subarray(0, n));
    if (!ok) {
      // Wait for room, or for the server to close us.
      await Promise.race([new Promise<void>((r) => s.socket.once('drain', () => r())), s.closed]);
    }
  }
}

/**
 * `count` sockets each send an unfinished CONNECT of `bytes` (announced `bytes`, sent all but the
 * last 16): the attack of issue 16, item 4. Resolves once every socket has written what it could.
 */
export async function unfinishedConnects(port: number, count: number, bytes: number, hosts = 1): Promise<OpenSocket[]> {
  const sockets: OpenSocket[] = [];
  // Spread over `hosts` loopback addresses (127.0.0.2, .3, …) when more than one.
  for (let i = 0; i < count; i++) sockets.push(await openSocket(port, hosts > 1 ? `127.0.0.${2 + (i % hosts)}` : undefined));
  await Promise.all(
    sockets.map(async (s) => {
      const prefix = connectPrefix(bytes);
      s.socket.write(prefix);
      // The prefix carries 12 bytes of the body (variable header and the id's length).
      await writeFiller(s, Math.max(0, bytes - 12 - 16));
    }),
  );
  return sockets;
}

/** A CONNECT packet as bytes (mqtt-packet), for tests that then send something after it. */
export function connectBytes(opts: {
  clientId: string;
  username?: string;
  password?: string;
  keepalive?: number;
  clean?: boolean;
}): Buffer {
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: opts.clean ?? true,
    keepalive: opts.keepalive ?? 60,
    clientId: opts.clientId,
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(opts.password !== undefined ? { password: Buffer.from(opts.password) } : {}),
  });
}

/** Reads MQTT packets from a raw socket. */
export function packetsOf(socket: net.Socket): { next(cmd: string, timeoutMs?: number): Promise<mqttPacket.Packet> } {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const seen: mqttPacket.Packet[] = [];
  const waiters: { cmd: string; resolve: (p: mqttPacket.Packet) => void }[] = [];
  parser.on('packet', (p: mqttPacket.Packet) => {
    const i = waiters.findIndex((w) => w.cmd === p.cmd);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(p);
    else seen.push(p);
  });
  socket.on('data', (b) => parser.parse(b));
  return {
    next(cmd, timeoutMs = 5000) {
      const i = seen.findIndex((p) => p.cmd === cmd);
      if (i >= 0) return Promise.resolve(seen.splice(i, 1)[0]!);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no ${cmd} within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ cmd, resolve: (p) => (clearTimeout(t), resolve(p)) });
        socket.once('close', () => reject(new Error(`socket closed before a ${cmd}`)));
      });
    },
  };
}
