// One terminal's connection: registration, authentication, then its reports translated into the
// wire contract and submitted; every reply follows the standard's 0x8001/0x8100. A report is
// answered with result 0 only after `submit` resolved, i.e. after its rows are committed
// (DESIGN §5: "JT/T 808 general reply means its data is committed"). Frames are handled one at a
// time in arrival order (the gateway chains them), so replies leave in order too.
import { alertSchema, locationSchema, presenceSchema } from '../../protocol/schemas.js';
import { deviceTopic, type UpstreamChannel } from '../../protocol/topics.js';
import { Jt808DecodeError } from './jt808-bytes.js';
import { decodeFrame, encodeFrame, terminalKey, type Jt808Header } from './jt808-frame.js';
import { BATCH_BLIND_AREA, decodeBatch, decodeLocation, type Jt808Location } from './jt808-location.js';
import {
  MSG,
  REPLY,
  decodeAuthentication,
  decodeGeneralReply,
  decodeRegistration,
  encodeGeneralReply,
  encodeRegisterReply,
  encodeText,
  TEXT_FLAG,
  type GeneralReply,
  type ReplyResult,
} from './jt808-messages.js';
import { Reassembler } from './jt808-reassembly.js';
import { alarmEvents, locationPayloads, toFix, type AlarmEvent, type Jt808Fix } from './jt808-translate.js';
import type { Jt808GatewayDeps } from './jt808-gateway-deps.js';

export interface SessionLink {
  send(frame: Buffer): void;
  close(why: string): void;
  /** This session now speaks for the device (a second connection of the same device takes over). */
  claim(deviceId: string): void;
  /** Rate-limited warning with a counter label. */
  reject(reason: string, fields: Record<string, unknown>, frame?: Buffer): void;
}

const hexId = (id: number): string => `0x${id.toString(16).padStart(4, '0')}`;

export class Jt808Session {
  deviceId: string | null = null;
  private terminal: string | null = null;
  /** The last header seen: replies and downlink use its version and terminal number. */
  private peer: Jt808Header | null = null;
  private platformSeq = 0;
  private lastAlarm = 0;
  private authFailures = 0;
  private loggedOut = false;
  replaced = false;
  private readonly reassembler: Reassembler;
  private readonly textWaits = new Map<number, (r: GeneralReply | null) => void>();

  constructor(
    private readonly deps: Jt808GatewayDeps,
    private readonly link: SessionLink,
  ) {
    this.reassembler = new Reassembler({ now: () => deps.clock.now(), ...deps.reassembly });
  }

  async handle(escaped: Buffer): Promise<void> {
    const { metrics } = this.deps;
    const decoded = decodeFrame(escaped);
    if (!decoded.ok) {
      this.link.reject(
        decoded.reason,
        { terminalNo: decoded.header?.terminalNo, msgId: decoded.header && hexId(decoded.header.msgId) },
        escaped,
      );
      // §8.2: result 2 "message error" tells the terminal to send it again (it cannot tell why).
      if (decoded.header) this.reply(decoded.header, [decoded.header.seq], REPLY.messageError);
      return;
    }
    const { header } = decoded.frame;
    if (this.terminal !== null && terminalKey(header.terminalNo) !== this.terminal) {
      this.link.reject('terminal_mismatch', { expected: this.terminal, got: header.terminalNo, msgId: hexId(header.msgId) });
      this.reply(header, [header.seq], REPLY.failure);
      return;
    }
    this.peer = header;
    const assembled = this.reassembler.add(decoded.frame);
    if (this.reassembler.dropped > 0) {
      metrics.inc('jt808_reassembly_dropped_total', undefined, this.reassembler.dropped);
      this.reassembler.dropped = 0;
    }
    if (assembled.kind === 'pending') return;
    if (assembled.kind === 'rejected') {
      this.link.reject(assembled.reason, { terminalNo: header.terminalNo, msgId: hexId(header.msgId) });
      this.reply(header, [header.seq], REPLY.messageError);
      return;
    }
    const { message } = assembled;
    metrics.inc('jt808_frames_total', { msg: hexId(message.header.msgId) });
    try {
      await this.dispatch(message.header, message.body, message.seqs);
    } catch (err) {
      if (!(err instanceof Jt808DecodeError)) throw err;
      this.link.reject(err.reason, { terminalNo: header.terminalNo, msgId: hexId(header.msgId) }, escaped);
      this.reply(message.header, message.seqs, REPLY.messageError);
    }
  }

  private async dispatch(h: Jt808Header, body: Buffer, seqs: number[]): Promise<void> {
    switch (h.msgId) {
      case MSG.register:
        return this.register(h, body);
      case MSG.auth:
        return this.authenticate(h, body);
      case MSG.terminalReply: {
        const r = decodeGeneralReply(body);
        if (r.replyMsgId === MSG.text) this.textWaits.get(r.replySeq)?.(r);
        return;
      }
      case MSG.logout:
        if (this.deviceId) {
          await this.submitPresence(false);
          this.loggedOut = true;
        }
        this.reply(h, seqs, REPLY.ok);
        this.link.close('logout');
        return;
    }
    if (!this.deviceId) {
      // Nothing from a terminal that has not authenticated reaches the database.
      this.deps.metrics.inc('jt808_unauthenticated_total', { msg: hexId(h.msgId) });
      this.reply(h, seqs, REPLY.failure);
      return;
    }
    switch (h.msgId) {
      case MSG.heartbeat:
        return this.reply(h, seqs, REPLY.ok);
      case MSG.location: {
        const loc = decodeLocation(body);
        const events = alarmEvents(this.lastAlarm, loc, this.deps.clock.now());
        // The onset is remembered once it is stored: a report that failed raises its alarms again.
        if (await this.store(h, seqs, [loc], events, false)) this.lastAlarm = loc.alarm;
        return;
      }
      case MSG.batch: {
        const batch = decodeBatch(body);
        if (batch.errors.length > 0) throw new Jt808DecodeError(batch.errors[0]!.reason);
        const late = batch.type === BATCH_BLIND_AREA;
        const ordered = [...batch.locations].sort((a, b) => (a.ts ?? 0) - (b.ts ?? 0));
        // A blind-area batch is history: its alarms are read against each other, not against the
        // live state; a normal batch is the newest news and moves the live state on.
        let prev = late ? 0 : this.lastAlarm;
        const events: AlarmEvent[] = [];
        for (const loc of ordered) {
          events.push(...alarmEvents(prev, loc, this.deps.clock.now()));
          prev = loc.alarm;
        }
        if ((await this.store(h, seqs, ordered, events, late)) && !late && ordered.length > 0) this.lastAlarm = prev;
        return;
      }
      default:
        this.deps.metrics.inc('jt808_unsupported_total', { msg: hexId(h.msgId) });
        return this.reply(h, seqs, REPLY.unsupported);
    }
  }

  private async register(h: Jt808Header, body: Buffer): Promise<void> {
    const info = decodeRegistration(body, h.version);
    const out = await this.deps.register(terminalKey(h.terminalNo), info);
    this.deps.metrics.inc('jt808_registrations_total', { result: String(out.result) });
    this.deps.log.info(
      { terminalNo: h.terminalNo, result: out.result, model: info.model, maker: info.manufacturer },
      'terminal registration',
    );
    this.send(h, MSG.registerReply, encodeRegisterReply({ replySeq: h.seq, result: out.result, authCode: out.authCode }));
  }

  private async authenticate(h: Jt808Header, body: Buffer): Promise<void> {
    const auth = decodeAuthentication(body, h.version);
    const key = terminalKey(h.terminalNo);
    const found = await this.deps.authenticate(key, auth.code);
    if (!found) {
      this.authFailures++;
      this.deps.metrics.inc('jt808_auth_total', { result: 'refused' });
      this.deps.log.warn({ terminalNo: h.terminalNo, failures: this.authFailures }, 'terminal authentication refused');
      this.reply(h, [h.seq], REPLY.failure);
      if (this.authFailures >= this.deps.maxAuthFailures) this.link.close('auth_failures');
      return;
    }
    this.deps.metrics.inc('jt808_auth_total', { result: 'ok' });
    this.deviceId = found.deviceId;
    this.terminal = key;
    this.link.claim(found.deviceId);
    await this.submitPresence(true);
    this.deps.log.info(
      { terminalNo: h.terminalNo, deviceId: found.deviceId, version: h.version, imei: auth.imei },
      'terminal authenticated',
    );
    this.reply(h, [h.seq], REPLY.ok);
  }

  /** Fixes and events to the contract, validated, submitted; result 0 once all are committed. */
  private async store(h: Jt808Header, seqs: number[], locs: Jt808Location[], events: AlarmEvent[], late: boolean): Promise<boolean> {
    const { metrics } = this.deps;
    const fixes: Jt808Fix[] = [];
    for (const loc of locs) {
      const out = toFix(loc, { late, batteryItems: this.deps.batteryItems });
      if ('fix' in out) fixes.push(out.fix);
      else metrics.inc('jt808_fixes_skipped_total', { reason: out.skip.split(':')[0]! });
    }
    const messages: [UpstreamChannel, unknown][] = [
      ...locationPayloads(fixes).map((p): [UpstreamChannel, unknown] => ['location', p]),
      ...events.map((e): [UpstreamChannel, unknown] => ['events', e]),
    ];
    for (const [channel, payload] of messages) {
      const parsed = (channel === 'location' ? locationSchema : alertSchema).safeParse(payload);
      if (!parsed.success) {
        const first = parsed.error.issues[0];
        this.link.reject(`contract: ${channel}: ${first?.path.join('.') ?? ''}: ${first?.message ?? 'invalid'}`, {
          deviceId: this.deviceId,
          msgId: hexId(h.msgId),
        });
        this.reply(h, seqs, REPLY.messageError);
        return false;
      }
    }
    await Promise.all(messages.map(([channel, payload]) => this.submit(channel, payload)));
    metrics.inc('jt808_fixes_total', undefined, fixes.length);
    for (const e of events) metrics.inc('jt808_events_total', { type: e.type });
    this.reply(h, seqs, REPLY.ok);
    return true;
  }

  private submit(channel: UpstreamChannel, payload: unknown): Promise<void> {
    return this.deps.submit(deviceTopic(this.deps.topicRoot, this.deviceId!, channel), Buffer.from(JSON.stringify(payload)));
  }

  private async submitPresence(online: boolean): Promise<void> {
    const p = presenceSchema.parse({ online, ts: this.deps.clock.now() });
    await this.submit('presence', p);
  }

  /** Called by the gateway when the socket is gone: offline, unless a newer connection took over. */
  async closed(): Promise<void> {
    for (const wait of this.textWaits.values()) wait(null);
    this.textWaits.clear();
    if (this.deviceId && !this.replaced && !this.loggedOut) await this.submitPresence(false);
  }

  /** 0x8300 to this terminal; resolves with its 0x0001 reply, or null on timeout or disconnect. */
  sendText(text: string, urgent: boolean, timeoutMs: number): Promise<GeneralReply | null> {
    if (!this.peer) return Promise.resolve(null);
    const seq = this.send(
      this.peer,
      MSG.text,
      encodeText({ flag: TEXT_FLAG.display | TEXT_FLAG.tts | (urgent ? TEXT_FLAG.urgent : 0), text }, this.peer.version),
    );
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(null), timeoutMs);
      const done = (r: GeneralReply | null) => {
        clearTimeout(timer);
        this.textWaits.delete(seq);
        resolve(r);
      };
      this.textWaits.set(seq, done);
    });
  }

  private reply(h: Jt808Header, seqs: number[], result: ReplyResult): void {
    this.deps.metrics.inc('jt808_replies_total', { result: String(result) });
    for (const seq of seqs) this.send(h, MSG.platformReply, encodeGeneralReply({ replySeq: seq, replyMsgId: h.msgId, result }));
  }

  /** Sends a platform message in the terminal's own edition; returns its serial number. */
  private send(h: Jt808Header, msgId: number, body: Buffer): number {
    const seq = this.platformSeq;
    this.platformSeq = (this.platformSeq + 1) & 0xffff;
    this.link.send(encodeFrame({ msgId, version: h.version, protocolVersion: h.protocolVersion, terminalNo: h.terminalNo, seq }, body));
    return seq;
  }
}
