// A handset that is a JT/T 808 terminal (a personal locator or body camera) on the node's JT808 port,
// through jt808-terminal.ts: on every connection it authenticates (0x0102) with the code it got
// from registering (0x0100 → 0x8100) the first time, then sends each fix as a 0x0200, the model's
// status as a heartbeat 0x0002, and the buffer of an outage as a blind-area batch 0x0704 type 1.
// A fix the platform did not confirm (no 0x8001 before the connection went) is kept and goes up in
// the next blind-area batch, as a terminal keeps its data until the platform has answered.
//
// What a terminal cannot say is not said: no patrol report, no task reply. Task offers arrive as
// 0x8300 text (the terminal's screen and voice), answered 0x0001 "received" like a real one; the
// worker replies by other means (gateways/jt808/README.md). Edition (2013 or 2019) by the terminal
// number's last digit, so a demo has both.
import type { Fix } from '../protocol/schemas.js';
import type { Jt808Version } from '../gateways/jt808/jt808-frame.js';
import type { LocationInput } from '../gateways/jt808/jt808-location.js';
import { Jt808Terminal } from './jt808-terminal.js';
import { RECONNECT_MS, type HandsetTransport, type TransportContext, type UpstreamOutput } from './handset-transport.js';

/** A blind-area upload carries at most this many fixes per message (the model's batch size too). */
const BATCH_FIXES = 100;
/** Fixes a terminal keeps while the platform does not answer (its flash); the oldest go first. */
const KEEP_FIXES = 10_000;

/** The 0x0200 body of one fix: WGS-84, km/h, course, and the battery as GPS51's vendor item 0xFB. */
export function jt808Location(fix: Fix): LocationInput {
  const items = [
    { id: 0x30, data: Buffer.from([24]) },
    { id: 0x31, data: Buffer.from([Math.max(4, 16 - Math.round(fix.acc ?? 8))]) },
  ];
  if (fix.battery !== undefined) {
    // Percent BYTE, volts WORD (0.01 V), charging BYTE: gateways/jt808/jt808-translate.ts reads the percent.
    const b = Buffer.alloc(4);
    b.writeUInt8(Math.round(fix.battery), 0);
    b.writeUInt16BE(Math.round(340 + 0.8 * fix.battery), 1);
    items.push({ id: 0xfb, data: b });
  }
  return {
    lat: fix.lat,
    lon: fix.lon,
    ts: typeof fix.ts === 'number' ? fix.ts : Date.parse(fix.ts),
    altitudeM: fix.alt ?? 0,
    speedKmh: (fix.speed ?? 0) * 3.6,
    course: Math.round(fix.heading ?? 0) % 360,
    items,
  };
}

export function jt808Edition(terminalNo: string): Jt808Version {
  return Number(terminalNo.slice(-1)) % 2 === 0 ? 2019 : 2013;
}

export class Jt808Transport implements HandsetTransport {
  private term: Jt808Terminal | null = null;
  private authCode: string | null = null;
  private up = false;
  private closed = false;
  /** Bumped by every open/drop/close: a loop of an older connection stops. */
  private generation = 0;
  /** Fixes not yet confirmed by the platform: the next blind-area upload. */
  private unsent: LocationInput[] = [];
  private readonly terminalNo: string;
  private readonly version: Jt808Version;

  constructor(private readonly c: TransportContext) {
    if (!c.handset.terminalNo) throw new Error(`${c.handset.id} is a JT/T 808 handset without a terminal number`);
    this.terminalNo = c.handset.terminalNo;
    this.version = jt808Edition(this.terminalNo);
  }

  get connected(): boolean {
    return this.up;
  }

  open(): void {
    if (this.closed) return;
    void this.run(++this.generation);
  }

  send(out: UpstreamOutput): boolean {
    if (out.kind === 'fix') this.sendFixes([jt808Location(out.payload)], false);
    else if (out.kind === 'batch') this.sendFixes(out.payload.fixes.map(jt808Location), true);
    else if (out.kind === 'status') {
      // The terminal's heartbeat where a native handset sends its status (keeps the idle timer off).
      if (this.up) this.term?.heartbeat().catch(() => undefined);
    } else return false;
    return true;
  }

  drop(): void {
    this.generation++;
    this.up = false;
    this.term?.destroy();
    this.term = null;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.generation++;
    const term = this.term;
    this.term = null;
    if (!term) return;
    // 0x0003 logout: the platform answers, records the terminal offline and closes.
    if (this.up) await term.logout().catch(() => undefined);
    this.up = false;
    const timer = setTimeout(() => term.destroy(), 2000);
    await term.close();
    clearTimeout(timer);
  }

  tick(): void {
    const term = this.term;
    if (!term) return;
    // What the terminal recorded: texts go to the listener, replies are only counted by tests.
    for (const t of term.texts.splice(0)) this.c.hooks.text(t);
    term.acks.length = 0;
  }

  private async run(gen: number): Promise<void> {
    const { c } = this;
    while (!this.closed && gen === this.generation) {
      let term: Jt808Terminal | null = null;
      try {
        if (!c.jt808 || c.jt808.port === 0) throw new Error('no JT/T 808 port given (JT808_PORT 0 and none passed to the simulation)');
        term = await Jt808Terminal.connect({
          host: c.jt808.host,
          port: c.jt808.port,
          terminalNo: this.terminalNo,
          version: this.version,
          imei: `86${this.terminalNo.padStart(13, '0')}`.slice(0, 15),
          softwareVersion: 'grid-sim-1.0',
        });
        if (gen !== this.generation) {
          term.destroy();
          return;
        }
        this.term = term;
        if (!this.authCode) {
          const r = await term.register({ model: 'GRID-P1', terminalId: this.terminalNo.slice(-7) });
          if (r.result !== 0 || !r.authCode) throw new Error(`registration refused: 0x8100 result ${r.result}`);
          this.authCode = r.authCode;
        }
        const auth = await term.authenticate(this.authCode);
        if (auth !== 0) {
          // A code that no longer fits (the secret was rotated): register again next time.
          this.authCode = null;
          throw new Error(`authentication refused: 0x8001 result ${auth}`);
        }
        if (gen !== this.generation) return;
        this.up = true;
        this.uploadUnsent();
        c.hooks.up();
        await term.closed;
      } catch (err) {
        if (gen === this.generation && !this.closed) c.hooks.error((err as Error).message);
      }
      if (gen !== this.generation) return;
      this.up = false;
      if (term) {
        term.destroy();
        if (this.term === term) this.term = null;
      }
      if (this.closed) return;
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  }

  /** Sends now when connected; otherwise, and when the platform does not confirm, keeps them. */
  private sendFixes(fixes: LocationInput[], blindArea: boolean): void {
    const term = this.term;
    if (!this.up || !term) return this.keep(fixes);
    if (!blindArea && fixes.length === 1) {
      const [fix] = fixes as [LocationInput];
      term.location(fix).catch(() => this.keep([fix]));
      return;
    }
    for (let i = 0; i < fixes.length; i += BATCH_FIXES) {
      const chunk = fixes.slice(i, i + BATCH_FIXES);
      term.batch(chunk, 1).catch(() => this.keep(chunk));
    }
  }

  private uploadUnsent(): void {
    const unsent = this.unsent;
    this.unsent = [];
    if (unsent.length > 0) this.sendFixes(unsent, true);
  }

  private keep(fixes: LocationInput[]): void {
    this.unsent.push(...fixes);
    if (this.unsent.length > KEEP_FIXES) this.unsent.splice(0, this.unsent.length - KEEP_FIXES);
  }
}
