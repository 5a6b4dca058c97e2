// The gateway's identity functions over the device registry, for system.ts to wire (the gateway
// itself sees only `authenticate` and `register`). A JT/T 808 terminal is a device whose id is
// `jt808-{terminal number}` (digits, leading zeros dropped: `jt808-13800138000`), and whose
// authentication code is its device secret, checked against the stored hash like an MQTT password.
// Registration (0x0100) issues a fresh code and stores its hash: that is how the standard hands a
// terminal its code (§8.6), and a reset terminal that registers again gets a new one.
import { hashSecret, newSecret, verifySecret } from '../../common/secrets.js';
import type { Jt808Identity } from './jt808-gateway-deps.js';
import type { RegisterResult } from './jt808-messages.js';

export interface Jt808DeviceRecord {
  id: string;
  kind: string;
  secretHash: string;
  enabled: boolean;
}

export interface Jt808DeviceStore {
  /** storage/device-store.ts findDevice(pool, id). */
  find(deviceId: string): Promise<Jt808DeviceRecord | null>;
  /** Replaces the device's secret hash (the registry's rotate; the secret itself is never stored). */
  setSecretHash(deviceId: string, secretHash: string): Promise<void>;
}

export interface Jt808RegistryOptions {
  /** Terminal number → device id. Default `jt808-{digits}`; the device registry may keep its own column later. */
  deviceIdFor?: (terminalNo: string) => string;
  newCode?: () => string;
  /**
   * The registry's secret scheme, given the device id so a keyed hash can bind the secret to it.
   * Default: scrypt (common/secrets.ts hashSecret/verifySecret).
   */
  hash?: (deviceId: string, secret: string) => Promise<string> | string;
  verify?: (deviceId: string, secret: string, stored: string) => Promise<boolean> | boolean;
}

export const jt808DeviceId = (terminalNo: string): string => `jt808-${terminalNo}`;

/** 0x8100 result 4: "no such terminal in the database" (§8.6). */
const NO_SUCH_TERMINAL: RegisterResult = 4;

export function jt808Identity(store: Jt808DeviceStore, opts: Jt808RegistryOptions = {}): Jt808Identity {
  const idFor = opts.deviceIdFor ?? jt808DeviceId;
  const verify = opts.verify ?? ((_id: string, secret: string, stored: string) => verifySecret(secret, stored));
  const hash = opts.hash ?? ((_id: string, secret: string) => hashSecret(secret));
  // Only handsets publish locations and events (protocol/topics.ts PUBLISH_CHANNELS): a door or
  // camera record with a terminal's id would have every report dead-lettered by the hub.
  const usable = (d: Jt808DeviceRecord | null): d is Jt808DeviceRecord => d?.enabled === true && d.kind === 'handset';
  return {
    async authenticate(terminalNo, authCode) {
      const d = await store.find(idFor(terminalNo));
      if (!usable(d) || authCode.length === 0) return null;
      return (await verify(d.id, authCode, d.secretHash)) ? { deviceId: d.id } : null;
    },
    async register(terminalNo) {
      const d = await store.find(idFor(terminalNo));
      if (!usable(d)) return { result: NO_SUCH_TERMINAL };
      const code = (opts.newCode ?? newSecret)();
      await store.setSecretHash(d.id, await hash(d.id, code));
      return { result: 0, authCode: code };
    },
  };
}
