// A seeded fuzzer for the broker's MQTT port (loopback only). Each session is one TCP connection
// that sends packets built with mqtt-packet and then mutated: random bytes, truncations, bit flips,
// inserted or deleted bytes, a forged Remaining Length, two packets spliced. Half the sessions first
// authenticate as a real device (so the mutations reach the handlers behind the CONNACK), the others
// start with a mutated CONNECT or garbage. Bounded by a session count and a deadline; a fixed seed
// replays the same bytes.
import mqttPacket from 'mqtt-packet';
import { openSocket, type OpenSocket } from './hostile-sockets.js';

/** mulberry32: small, fast, good enough to pick mutations; seeded so a run can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzCredentials {
  /** Devices the fuzzer may log in as (never the device whose traffic must keep flowing). */
  devices: Array<{ id: string; secret: string }>;
  topicRoot: string;
}

export interface FuzzOptions {
  port: number;
  seed: number;
  /** Stop after this many sessions … */
  sessions: number;
  /** … or at this deadline, whichever comes first. */
  durationMs: number;
  /** Sessions open at once. */
  concurrency?: number;
  /** How long a session waits for the broker before it hangs up itself. */
  sessionMs?: number;
  creds: FuzzCredentials;
  /** Called with every session's bytes before they are sent (to keep the last few for a report). */
  onSession?: (s: { index: number; chunks: Buffer[] }) => void;
}

export interface FuzzStats {
  sessions: number;
  packets: number;
  bytes: number;
  /** Sessions the broker closed before the fuzzer hung up. */
  closedByBroker: number;
  /** Sessions that got a CONNACK with code 0 (reached the handlers behind authentication). */
  authenticated: number;
  ms: number;
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

function randomBytes(r: Rand, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

function topic(r: Rand, c: FuzzCredentials, deviceId: string): string {
  return pick(r, [
    `${c.topicRoot}/devices/${deviceId}/location`,
    `${c.topicRoot}/devices/${deviceId}/events`,
    `${c.topicRoot}/devices/${deviceId}/presence`,
    `${c.topicRoot}/devices/${deviceId}/tasks`,
    `${c.topicRoot}/devices/other/location`,
    `${c.topicRoot}/devices/+/location`,
    '#',
    '$SYS/broker/x',
    `${'a/'.repeat(int(r, 1, 120))}b`,
    '',
    randomBytes(r, int(r, 1, 40)).toString('latin1'),
    `owntracks/${deviceId}/phone`,
  ]);
}

function payload(r: Rand): Buffer {
  return pick(r, [
    () =>
      Buffer.from(JSON.stringify({ ts: Date.now() - int(r, 0, 60_000), lat: 27.8 + r() / 10, lon: 113 + r() / 10, acc: int(r, 1, 50) })),
    () =>
      Buffer.from(
        JSON.stringify({
          fixes: Array.from({ length: int(r, 0, 50) }, () => ({ ts: int(r, 0, 2 ** 42), lat: r() * 180 - 90, lon: r() * 360 - 180 })),
        }),
      ),
    () => Buffer.from(JSON.stringify({ ts: 'x', lat: null, lon: {} })),
    () => Buffer.from('{"ts":1,"lat":'.repeat(int(r, 1, 200))),
    () => randomBytes(r, int(r, 0, 2048)),
    () => Buffer.alloc(0),
    () => Buffer.alloc(int(r, 1, 64 * 1024), 0x7b),
  ])();
}

/** A valid packet of a random kind, from mqtt-packet. */
function validPacket(r: Rand, c: FuzzCredentials, dev: { id: string; secret: string }): Buffer {
  const messageId = int(r, 1, 65535);
  const kind = pick(r, [
    'connect',
    'publish',
    'publish',
    'publish',
    'subscribe',
    'unsubscribe',
    'pingreq',
    'puback',
    'pubrel',
    'pubrec',
    'disconnect',
  ] as const);
  switch (kind) {
    case 'connect':
      return connectPacket(r, c, dev, r() < 0.5);
    case 'publish': {
      const qos = pick(r, [0, 1, 1, 2] as const);
      return mqttPacket.generate({
        cmd: 'publish',
        topic: topic(r, c, dev.id),
        payload: payload(r),
        qos,
        retain: r() < 0.2,
        dup: r() < 0.1,
        ...(qos > 0 ? { messageId } : {}),
      } as mqttPacket.IPublishPacket);
    }
    case 'subscribe':
      return mqttPacket.generate({
        cmd: 'subscribe',
        messageId,
        subscriptions: Array.from({ length: int(r, 1, 4) }, () => ({
          topic: topic(r, c, dev.id) || 'x',
          qos: pick(r, [0, 1, 2] as const),
        })),
      });
    case 'unsubscribe':
      return mqttPacket.generate({ cmd: 'unsubscribe', messageId, unsubscriptions: [topic(r, c, dev.id) || 'x'] });
    case 'pingreq':
    case 'disconnect':
      return mqttPacket.generate({ cmd: kind });
    default:
      return mqttPacket.generate({ cmd: kind, messageId });
  }
}

function connectPacket(r: Rand, c: FuzzCredentials, dev: { id: string; secret: string }, rightSecret: boolean): Buffer {
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: r() < 0.8,
    keepalive: pick(r, [0, 1, 30, 65535]),
    clientId: r() < 0.9 ? dev.id : `fz-${int(r, 0, 999)}`,
    username: dev.id,
    password: Buffer.from(rightSecret ? dev.secret : `wrong-${int(r, 0, 99)}`),
    ...(r() < 0.3
      ? {
          will: {
            topic: topic(r, c, dev.id) || 'w',
            payload: payload(r).subarray(0, 512),
            qos: pick(r, [0, 1, 2] as const),
            retain: r() < 0.5,
          },
        }
      : {}),
  });
}

/** One mutation of `b` (never the identity, except by chance). */
export function mutate(r: Rand, b: Buffer, other: Buffer): Buffer {
  const n = b.length;
  switch (int(r, 0, 7)) {
    case 0: // flip a few bits
      {
        const out = Buffer.from(b);
        for (let k = int(r, 1, 8); k > 0 && n > 0; k--) out[int(r, 0, n - 1)]! ^= 1 << int(r, 0, 7);
        return out;
      }
    case 1: // truncate
      return b.subarray(0, int(r, 0, Math.max(0, n - 1)));
    case 2: // overwrite a byte with an interesting value
      {
        const out = Buffer.from(b);
        if (n > 0) out[int(r, 0, n - 1)] = pick(r, [0x00, 0x7f, 0x80, 0xff, 0xc0, 0x10, 0x30]);
        return out;
      }
    case 3: // insert random bytes
      {
        const at = int(r, 0, n);
        return Buffer.concat([b.subarray(0, at), randomBytes(r, int(r, 1, 16)), b.subarray(at)]);
      }
    case 4: // delete a range
      {
        const at = int(r, 0, n);
        return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(n, at + int(r, 1, 16)))]);
      }
    case 5: // forge the Remaining Length: huge, endless continuation bytes, or zero
      return Buffer.concat([
        b.subarray(0, 1),
        pick(r, [
          Buffer.from([0xff, 0xff, 0xff, 0x7f]),
          Buffer.from([0xff, 0xff, 0xff, 0xff, 0x01]),
          Buffer.from([0x00]),
          Buffer.from([0x80, 0x80, 0x01]),
        ]),
        b.subarray(2),
      ]);
    case 6: // splice the head of one packet onto the tail of another
      return Buffer.concat([b.subarray(0, int(r, 0, n)), other.subarray(int(r, 0, other.length))]);
    default: // pure noise
      return randomBytes(r, int(r, 1, 512));
  }
}

/** The chunks one session writes: maybe a good CONNECT, then valid and mutated packets. */
export function sessionChunks(r: Rand, c: FuzzCredentials): { chunks: Buffer[]; packets: number; authenticates: boolean } {
  const dev = pick(r, c.devices);
  const chunks: Buffer[] = [];
  const authenticates = r() < 0.5;
  if (authenticates) chunks.push(connectPacket(r, c, dev, true));
  else chunks.push(r() < 0.7 ? mutate(r, connectPacket(r, c, dev, r() < 0.5), validPacket(r, c, dev)) : randomBytes(r, int(r, 1, 256)));
  const more = int(r, 0, 8);
  for (let i = 0; i < more; i++) {
    const p = validPacket(r, c, dev);
    chunks.push(r() < 0.6 ? mutate(r, p, validPacket(r, c, dev)) : p);
  }
  return { chunks, packets: chunks.length, authenticates };
}

/** Runs the sessions against the broker; never throws for what the broker does. */
export async function runFuzz(o: FuzzOptions): Promise<FuzzStats> {
  const r = rng(o.seed);
  const started = Date.now();
  const stats: FuzzStats = { sessions: 0, packets: 0, bytes: 0, closedByBroker: 0, authenticated: 0, ms: 0 };
  const sessionMs = o.sessionMs ?? 300;
  let next = 0;
  const worker = async (w: number): Promise<void> => {
    while (next < o.sessions && Date.now() - started < o.durationMs) {
      const index = next++;
      const { chunks, packets, authenticates } = sessionChunks(r, o.creds);
      o.onSession?.({ index, chunks });
      stats.sessions++;
      stats.packets += packets;
      // Spread over loopback addresses: the broker caps connections per address before the CONNACK.
      const s = await openSocket(o.port, `127.0.3.${1 + ((w + index) % 50)}`).catch(() => null);
      if (!s) continue;
      await play(s, chunks, authenticates, sessionMs, stats);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 16 }, (_, w) => worker(w)));
  stats.ms = Date.now() - started;
  return stats;
}

async function play(s: OpenSocket, chunks: Buffer[], authenticates: boolean, sessionMs: number, stats: FuzzStats): Promise<void> {
  let closedByBroker = false;
  let hungUp = false;
  void s.closed.then(() => (closedByBroker = !hungUp));
  const firstAnswer = new Promise<void>((resolve) => {
    s.socket.once('data', (d: Buffer) => {
      // CONNACK with return code 0: 20 02 xx 00.
      if (d.length >= 4 && d[0] === 0x20 && d[3] === 0x00) stats.authenticated++;
      resolve();
    });
  });
  // A session that logs in waits for its CONNACK, as clients do (the broker takes only 8 KiB before
  // it), so that its packets reach the handlers behind authentication.
  if (authenticates) {
    stats.bytes += chunks[0]!.length;
    s.socket.write(chunks[0]!);
    await Promise.race([firstAnswer, s.closed, new Promise((res) => setTimeout(res, sessionMs))]);
    chunks = chunks.slice(1);
  }
  for (const chunk of chunks) {
    if (s.socket.destroyed) break;
    stats.bytes += chunk.length;
    s.socket.write(chunk);
  }
  await Promise.race([s.closed, new Promise((res) => setTimeout(res, sessionMs))]);
  hungUp = !s.socket.destroyed;
  s.socket.destroy();
  await s.closed;
  if (closedByBroker) stats.closedByBroker++;
}
