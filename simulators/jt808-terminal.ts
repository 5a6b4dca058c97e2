// A JT/T 808 terminal written from the standard (2013 or 2019 edition), over a real TCP socket:
// registers (0x0100), authenticates (0x0102), sends heartbeats (0x0002), locations (0x0200),
// batches (0x0704, normal or blind-area, split into packages when long), an SOS (alarm bit 0), and
// logs out (0x0003). It records every 0x8001 it gets, so a test can tell which reports were
// acknowledged with result 0, and answers 0x8300 text with 0x0001 like a terminal with a screen.
// Tests, the demo and `bench:ingest --protocol jt808` drive it.
import net from 'node:net';
import { FrameSplitter, decodeFrame, encodeFrame, encodeSplit, type Jt808Version } from '../gateways/jt808/jt808-frame.js';
import { encodeBatch, encodeLocation, type LocationInput } from '../gateways/jt808/jt808-location.js';
import {
  MSG,
  decodeGeneralReply,
  decodeRegisterReply,
  decodeText,
  encodeAuthentication,
  encodeGeneralReply,
  encodeRegistration,
  type RegisterReply,
  type Registration,
  type TextMessage,
} from '../gateways/jt808/jt808-messages.js';

export interface Jt808TerminalOptions {
  host: string;
  port: number;
  /** Digits: up to 12 (2013) or 20 (2019). */
  terminalNo: string;
  version: Jt808Version;
  authCode?: string;
  imei?: string;
  softwareVersion?: string;
  /** How long to wait for the platform's answer to one message. Default 10 s. */
  replyTimeoutMs?: number;
  /** Answer 0x8300 with 0x0001 (default true). */
  answerText?: boolean;
}

export interface AckRecord {
  msgId: number;
  seq: number;
  result: number;
  /** Wall-clock arrival (ms): tests compare it with the commit time. */
  at: number;
}

type Waiter = { resolve: (v: Buffer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class Jt808Terminal {
  /** Every 0x8001 received: which message (id, serial number) got which result. */
  readonly acks: AckRecord[] = [];
  readonly texts: TextMessage[] = [];
  authCode: string | null;
  private seq = 0;
  private readonly waiters = new Map<string, Waiter>();
  private readonly textWaiters: ((t: TextMessage) => void)[] = [];
  private readonly splitter = new FrameSplitter();
  readonly closed: Promise<void>;

  private constructor(
    private readonly socket: net.Socket,
    readonly opts: Jt808TerminalOptions,
  ) {
    this.authCode = opts.authCode ?? null;
    socket.on('data', (chunk: Buffer) => {
      for (const f of this.splitter.push(chunk).frames) this.onFrame(f);
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    void this.closed.then(() => {
      for (const w of this.waiters.values()) clearTimeout(w.timer), w.reject(new Error('connection closed'));
      this.waiters.clear();
    });
  }

  static connect(opts: Jt808TerminalOptions): Promise<Jt808Terminal> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: opts.host, port: opts.port }, () => {
        socket.off('error', reject);
        resolve(new Jt808Terminal(socket, opts));
      });
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  /** 0x0100 → 0x8100; keeps the code it is given. */
  async register(info: Partial<Omit<Registration, 'layout'>> = {}): Promise<RegisterReply> {
    const body = encodeRegistration(
      {
        province: 43,
        city: 200,
        manufacturer: 'GRID',
        model: 'SIM-808',
        terminalId: this.opts.terminalNo.slice(-7),
        plateColor: 0,
        plate: '',
        ...info,
      },
      this.opts.version,
    );
    const seq = this.send(MSG.register, body);
    const reply = decodeRegisterReply(await this.wait(`8100:${seq}`));
    if (reply.result === 0 && reply.authCode) this.authCode = reply.authCode;
    return reply;
  }

  /** 0x0102 → 0x8001 result. */
  authenticate(code = this.authCode ?? ''): Promise<number> {
    return this.request(
      MSG.auth,
      encodeAuthentication(
        { code, imei: this.opts.imei ?? '860000000000001', softwareVersion: this.opts.softwareVersion ?? 'sim-1.0' },
        this.opts.version,
      ),
    );
  }

  heartbeat(): Promise<number> {
    return this.request(MSG.heartbeat, Buffer.alloc(0));
  }

  location(fix: LocationInput): Promise<number> {
    return this.request(MSG.location, encodeLocation(fix));
  }

  /** The alarm button: a location with alarm bit 0 (§8.18 Table 24, 紧急报警). */
  sos(fix: LocationInput): Promise<number> {
    return this.location({ ...fix, alarm: (fix.alarm ?? 0) | 1 });
  }

  /**
   * 0x0704; type 1 is the blind-area supplement (fixes buffered while out of coverage). A body
   * longer than `maxPackageBody` goes as split packages; resolves with the worst result of them.
   */
  async batch(fixes: LocationInput[], type: 0 | 1, maxPackageBody = 1023): Promise<number> {
    const body = encodeBatch(type, fixes.map(encodeLocation));
    if (body.length <= maxPackageBody) return this.request(MSG.batch, body);
    const frames = encodeSplit(this.header(MSG.batch, this.seq), body, maxPackageBody);
    const seqs = frames.map((_, i) => (this.seq + i) & 0xffff);
    this.seq = (this.seq + frames.length) & 0xffff;
    const replies = seqs.map((s) => this.wait(`8001:${MSG.batch}:${s}`));
    for (const f of frames) this.socket.write(f);
    const results = (await Promise.all(replies)).map((b) => decodeGeneralReply(b).result);
    return Math.max(...results);
  }

  /** 0x0003; the platform answers and closes. */
  logout(): Promise<number> {
    return this.request(MSG.logout, Buffer.alloc(0));
  }

  /** Writes bytes as they are (hostile tests: garbage, oversize frames). */
  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /**
   * Writes a frame built elsewhere (a retransmission byte for byte, a corrupted check code) and
   * waits for the 0x8001 to (msgId, seq).
   */
  sendFrame(frame: Buffer, msgId: number, seq: number): Promise<number> {
    const reply = this.wait(`8001:${msgId}:${seq}`);
    this.socket.write(frame);
    return reply.then((b) => decodeGeneralReply(b).result);
  }

  /** A frame as this terminal would send it, with the serial number given (for sendFrame). */
  frame(msgId: number, body: Buffer, seq: number): Buffer {
    return encodeFrame(this.header(msgId, seq), body);
  }

  /** Sends a message and waits for its 0x8001 (matched by message id and serial number). */
  request(msgId: number, body: Buffer): Promise<number> {
    const seq = this.send(msgId, body);
    return this.wait(`8001:${msgId}:${seq}`).then((b) => decodeGeneralReply(b).result);
  }

  /** Waits for the next 0x8300 not yet taken. */
  nextText(): Promise<TextMessage> {
    const t = this.texts.shift();
    if (t) return Promise.resolve(t);
    return new Promise((resolve) => this.textWaiters.push(resolve));
  }

  close(): Promise<void> {
    this.socket.end();
    return this.closed;
  }

  /** The network is gone: the socket is destroyed without a logout, as when coverage is lost. */
  destroy(): void {
    this.socket.destroy();
  }

  private header(msgId: number, seq: number) {
    return {
      msgId,
      version: this.opts.version,
      protocolVersion: this.opts.version === 2019 ? 1 : null,
      terminalNo: this.opts.terminalNo,
      seq,
    };
  }

  private send(msgId: number, body: Buffer): number {
    const seq = this.seq;
    this.seq = (this.seq + 1) & 0xffff;
    this.socket.write(encodeFrame(this.header(msgId, seq), body));
    return seq;
  }

  private wait(key: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        reject(new Error(`no reply ${key} within ${this.opts.replyTimeoutMs ?? 10_000} ms`));
      }, this.opts.replyTimeoutMs ?? 10_000);
      this.waiters.set(key, { resolve, reject, timer });
    });
  }

  private settle(key: string, body: Buffer): void {
    const w = this.waiters.get(key);
    if (!w) return;
    clearTimeout(w.timer);
    this.waiters.delete(key);
    w.resolve(body);
  }

  private onFrame(escaped: Buffer): void {
    const d = decodeFrame(escaped);
    if (!d.ok) return;
    const { header, body } = d.frame;
    if (header.msgId === MSG.platformReply) {
      const r = decodeGeneralReply(body);
      this.acks.push({ msgId: r.replyMsgId, seq: r.replySeq, result: r.result, at: Date.now() });
      this.settle(`8001:${r.replyMsgId}:${r.replySeq}`, body);
    } else if (header.msgId === MSG.registerReply) {
      this.settle(`8100:${decodeRegisterReply(body).replySeq}`, body);
    } else if (header.msgId === MSG.text) {
      const t = decodeText(body, header.version);
      const waiter = this.textWaiters.shift();
      if (waiter) waiter(t);
      else this.texts.push(t);
      if (this.opts.answerText ?? true)
        this.send(MSG.terminalReply, encodeGeneralReply({ replySeq: header.seq, replyMsgId: MSG.text, result: 0 }));
    }
  }
}
