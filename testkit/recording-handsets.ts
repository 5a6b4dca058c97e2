// Handsets that remember what they were told: each publishes numbered fixes at QoS 1 over a raw
// MQTT connection and records, per device, every seq the broker acknowledged with a PUBACK. Like a
// real handset it keeps every unacknowledged fix and sends it again after a reconnect. A test then
// compares what each handset was acknowledged with the table: the guarantee on its whole path.
import net from 'node:net';
import mqttPacket from 'mqtt-packet';

export interface RecordingOptions {
  port: () => number;
  host?: string;
  devices: readonly { id: string; secret: string }[];
  topicRoot?: string;
  /** Fixes per second per handset. */
  rateHz: number;
  /** Fix time of seq 0; seq i is base + i seconds. */
  baseTs: number;
}

interface Handset {
  id: string;
  secret: string;
  socket: net.Socket | null;
  up: boolean;
  seq: number;
  nextMid: number;
  /** messageId → seq of the fixes sent and not yet acknowledged on this connection. */
  inflight: Map<number, number>;
  /** seqs to send (new, or left unacknowledged by a lost connection). */
  buffer: number[];
  acked: Set<number>;
}

export class RecordingHandsets {
  private readonly hs: Handset[];
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private publishing = true;
  connects = 0;

  constructor(private readonly o: RecordingOptions) {
    this.hs = o.devices.map((d) => ({
      id: d.id,
      secret: d.secret,
      socket: null,
      up: false,
      seq: 0,
      nextMid: 1,
      inflight: new Map(),
      buffer: [],
      acked: new Set(),
    }));
  }

  start(): void {
    for (const h of this.hs) this.connect(h);
    this.timer = setInterval(() => this.tick(), 1000 / this.o.rateHz);
  }

  /** Acknowledged seqs per device. */
  acked(): Map<string, Set<number>> {
    return new Map(this.hs.map((h) => [h.id, h.acked]));
  }

  get ackedCount(): number {
    return this.hs.reduce((n, h) => n + h.acked.size, 0);
  }

  get upCount(): number {
    return this.hs.filter((h) => h.up).length;
  }

  /** Fixes made and not yet acknowledged (in flight or buffered). */
  get pending(): number {
    return this.hs.reduce((n, h) => n + h.inflight.size + h.buffer.length, 0);
  }

  /** Stop making new fixes; keep sending what is buffered. */
  stopPublishing(): void {
    this.publishing = false;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const h of this.hs) h.socket?.destroy();
  }

  private tick(): void {
    for (const h of this.hs) {
      if (this.publishing) h.buffer.push(h.seq++);
      if (h.up) this.flush(h);
    }
  }

  private flush(h: Handset): void {
    const out: Buffer[] = [];
    const topic = `${this.o.topicRoot ?? 'grid/v1'}/devices/${h.id}/location`;
    while (h.buffer.length > 0 && h.inflight.size < 100) {
      const seq = h.buffer.shift()!;
      const mid = h.nextMid;
      h.nextMid = (h.nextMid % 65535) + 1;
      h.inflight.set(mid, seq);
      const payload = JSON.stringify({ ts: this.o.baseTs + seq * 1000, lat: 27.87 + seq * 1e-6, lon: 113.12, acc: 5, seq }); // a slow walk: no jump for the position filter
      out.push(mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 1, messageId: mid, retain: false, dup: false }));
    }
    if (out.length > 0) h.socket!.write(Buffer.concat(out));
  }

  private connect(h: Handset): void {
    if (this.stopped) return;
    // Many handsets, many addresses (127.0.0.1–250 on loopback), as the broker's per-address limits expect.
    const host = this.o.host ?? '127.0.0.1';
    const localAddress = host === '127.0.0.1' ? `127.0.0.${1 + (this.hs.indexOf(h) % 250)}` : undefined;
    const socket = net.connect({ host, port: this.o.port(), ...(localAddress ? { localAddress } : {}) });
    h.socket = socket;
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p) => {
      if (p.cmd === 'connack' && p.returnCode === 0) {
        h.up = true;
        this.connects++;
        this.flush(h);
      } else if (p.cmd === 'puback' && p.messageId !== undefined) {
        const seq = h.inflight.get(p.messageId);
        if (seq !== undefined) {
          h.inflight.delete(p.messageId);
          h.acked.add(seq);
        }
      }
    });
    parser.on('error', () => socket.destroy());
    socket.on('data', (b) => parser.parse(b));
    socket.on('error', () => undefined);
    socket.on('connect', () =>
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: true,
          clientId: h.id,
          keepalive: 30,
          username: h.id,
          password: Buffer.from(h.secret),
        }),
      ),
    );
    socket.on('close', () => {
      if (h.socket !== socket) return;
      h.up = false;
      // What was sent and not acknowledged stays in the handset's buffer, oldest first.
      h.buffer.unshift(...[...h.inflight.values()].sort((a, b) => a - b));
      h.inflight.clear();
      if (!this.stopped) setTimeout(() => this.connect(h), 200 + Math.floor(Math.random() * 300));
    });
  }
}
