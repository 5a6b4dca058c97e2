// The hub's subscriber: a persistent MQTT session (clean=false, QoS 1) whose PUBACKs wait until
// the message is committed to the database. MQTT.js handles one message at a time when the ack
// waits (its handleMessage is serial), which would cap ingest at one message per commit; so this
// small client speaks MQTT 3.1.1 itself through mqtt-packet and acks in arrival order, as the spec
// requires (§4.6). Unacked messages are redelivered by the broker after a reconnect.
import net from 'node:net';
import mqttPacket from 'mqtt-packet';
import type { Logger } from '../common/logger.js';

export interface IncomingMessage {
  topic: string;
  payload: Buffer;
  /** Call once the message's effects are durable; idempotent. */
  ack(): void;
}

export interface IngestClientOptions {
  host: string;
  port: number;
  clientId: string;
  username: string;
  password: string;
  subscriptions: string[];
  keepaliveS?: number;
  logger: Logger;
  onMessage(msg: IncomingMessage): void;
}

export class MqttIngestClient {
  private socket: net.Socket | null = null;
  private generation = 0;
  private stopped = false;
  private pingTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private backoffMs = 200;
  private readonly log: Logger;
  private connectedOnce: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private paused = false;
  /** PUBACK ids waiting to leave; a commit acks thousands at once, they go in one write. */
  private pendingAcks: number[] = [];
  private ackGen = 0;

  constructor(private readonly opts: IngestClientOptions) {
    this.log = opts.logger.child({ mod: 'ingest-client' });
  }

  /** Resolves on the first successful CONNACK + SUBACK. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.connectedOnce = { resolve, reject };
      this.connect();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    const s = this.socket;
    if (!s || s.destroyed) return;
    await new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.end(mqttPacket.generate({ cmd: 'disconnect' }));
      setTimeout(() => s.destroy(), 1000).unref();
    });
  }

  /** Backpressure: stop reading from the broker while the writer catches up. */
  pause(): void {
    this.paused = true;
    this.socket?.pause();
  }

  resume(): void {
    this.paused = false;
    this.socket?.resume();
  }

  private connect(): void {
    const gen = ++this.generation;
    const socket = net.connect({ host: this.opts.host, port: this.opts.port });
    this.socket = socket;
    socket.setNoDelay(true);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const send = (packet: mqttPacket.Packet) => {
      if (gen === this.generation && !socket.destroyed) socket.write(mqttPacket.generate(packet));
    };
    socket.on('connect', () => {
      send({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: false,
        clientId: this.opts.clientId,
        keepalive: this.opts.keepaliveS ?? 30,
        username: this.opts.username,
        password: Buffer.from(this.opts.password),
      });
    });
    socket.on('data', (buf) => parser.parse(buf));
    parser.on('error', (err) => {
      this.log.error({ err: err.message }, 'malformed packet from broker; reconnecting');
      socket.destroy();
    });
    parser.on('packet', (packet) => this.onPacket(packet, gen, send, socket));
    socket.on('error', (err) => this.log.warn({ err: err.message }, 'broker connection error'));
    socket.on('close', () => {
      if (this.pingTimer) clearInterval(this.pingTimer);
      if (this.stopped || gen !== this.generation) return;
      this.log.warn({ retryMs: this.backoffMs }, 'broker connection lost; reconnecting');
      this.reconnectTimer = setTimeout(() => this.connect(), this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, 5000);
    });
  }

  private queueAck(messageId: number, gen: number, socket: net.Socket): void {
    if (this.pendingAcks.length === 0) {
      this.ackGen = gen;
      queueMicrotask(() => this.flushAcks(socket));
    }
    this.pendingAcks.push(messageId);
  }

  /** One write for all acks queued in this turn: PUBACK is 0x40 0x02 then the 16-bit id (§3.4). */
  private flushAcks(socket: net.Socket): void {
    const ids = this.pendingAcks;
    this.pendingAcks = [];
    if (this.ackGen !== this.generation || socket.destroyed) return;
    const buf = Buffer.allocUnsafe(ids.length * 4);
    for (let i = 0; i < ids.length; i++) {
      buf[i * 4] = 0x40;
      buf[i * 4 + 1] = 0x02;
      buf.writeUInt16BE(ids[i]!, i * 4 + 2);
    }
    socket.write(buf);
  }

  private onPacket(packet: mqttPacket.Packet, gen: number, send: (p: mqttPacket.Packet) => void, socket: net.Socket): void {
    switch (packet.cmd) {
      case 'connack':
        if (packet.returnCode !== 0) {
          const err = new Error(`broker refused the hub's connection (return code ${packet.returnCode}): check HUB_MQTT_USERNAME/HUB_MQTT_PASSWORD`);
          this.log.error({ returnCode: packet.returnCode }, err.message);
          this.connectedOnce?.reject(err);
          this.connectedOnce = null;
          this.stopped = true;
          socket.destroy();
          return;
        }
        this.backoffMs = 200;
        if (this.paused) socket.pause();
        send({ cmd: 'subscribe', messageId: 1, subscriptions: this.opts.subscriptions.map((topic) => ({ topic, qos: 1 as const })) });
        this.pingTimer = setInterval(() => send({ cmd: 'pingreq' }), ((this.opts.keepaliveS ?? 30) * 1000) / 2);
        return;
      case 'suback':
        this.log.info({ subscriptions: this.opts.subscriptions.length }, 'hub subscribed');
        this.connectedOnce?.resolve();
        this.connectedOnce = null;
        return;
      case 'publish': {
        const { messageId, qos } = packet;
        let acked = false;
        this.opts.onMessage({
          topic: packet.topic,
          payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
          ack: () => {
            if (acked) return;
            acked = true;
            // An ack for a previous connection's message id would ack the wrong message: drop it,
            // the broker redelivers that message and the idempotent write absorbs the duplicate.
            if (qos === 1 && messageId !== undefined && gen === this.generation) this.queueAck(messageId, gen, socket);
          },
        });
        return;
      }
      default:
        return;
    }
  }
}
