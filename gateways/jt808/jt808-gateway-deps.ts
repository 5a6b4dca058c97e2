// What the JT/T 808 gateway needs from the rest of the system, injected (it imports nothing of the
// hub or the broker): who a terminal is, how to register one, and where its messages go.
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import type { Metrics } from '../../common/metrics.js';
import type { RegisterResult, Registration } from './jt808-messages.js';
import type { ReassemblyOptions } from './jt808-reassembly.js';
import type { BatteryReader } from './jt808-translate.js';

export interface Jt808Identity {
  /**
   * The device behind a terminal number (digits without leading zeros) and authentication code
   * (0x0102), or null to refuse it.
   */
  authenticate(terminalNo: string, authCode: string): Promise<{ deviceId: string } | null>;
  /**
   * Registration (0x0100 → 0x8100): a terminal registered in the device registry gets its
   * authentication code (result 0); an unknown one a refusal (4: no such terminal).
   */
  register(terminalNo: string, info: Registration): Promise<{ result: RegisterResult; authCode?: string }>;
}

export interface Jt808GatewayOptions extends Jt808Identity {
  /** Hub.submit: one message of the wire contract; resolves after its rows are committed. */
  submit(topic: string, payload: Buffer): Promise<void>;
  topicRoot: string;
  metrics: Metrics;
  logger: Logger;
  clock?: Clock;
  /** Default 127.0.0.1 (DESIGN: servers bind 127.0.0.1 unless told otherwise). */
  host?: string;
  /** 0 = any free port. */
  port?: number;
  /**
   * A connection silent this long is closed. Default 180 s: three of the standard's default
   * heartbeat intervals (parameter 0x0001, 60 s), so one lost heartbeat does not cut a terminal.
   */
  idleTimeoutMs?: number;
  /** Escaped bytes between two 0x7E beyond which the connection is closed. Default: the largest legal frame. */
  maxFrameBytes?: number;
  reassembly?: Omit<ReassemblyOptions, 'now'>;
  /** Vendor additional items read as battery percent (default: GPS51's 0xFB). */
  batteryItems?: Readonly<Record<number, BatteryReader>>;
  /** Refused 0x0102 attempts on one connection before it is closed. Default 3. */
  maxAuthFailures?: number;
  /** Frames waiting on one connection before the socket is paused (read no further). Default 64. */
  maxQueuedFrames?: number;
  /** How long sendText waits for the terminal's 0x0001. Default 30 s. */
  textReplyTimeoutMs?: number;
  /** Keeps a refused frame for inspection (the dead_letters table); optional, never awaited by the terminal. */
  deadLetter?(d: { reason: string; terminalNo: string | null; deviceId: string | null; frame: Buffer }): Promise<void>;
}

/** The options with their defaults filled in, as the sessions see them. */
export interface Jt808GatewayDeps extends Jt808Identity {
  submit(topic: string, payload: Buffer): Promise<void>;
  topicRoot: string;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
  maxAuthFailures: number;
  reassembly?: Omit<ReassemblyOptions, 'now'>;
  batteryItems?: Readonly<Record<number, BatteryReader>>;
}
