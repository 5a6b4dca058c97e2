// The identity functions the gateway gets (jt808-device-registry.ts): terminal number → device,
// auth code = device secret (hashed), issued at registration; only enabled handsets qualify.
import { describe, expect, it } from 'vitest';
import { jt808Identity, type Jt808DeviceRecord } from '../../../gateways/jt808/jt808-device-registry.js';
import type { Registration } from '../../../gateways/jt808/jt808-messages.js';

const info: Registration = {
  province: 43,
  city: 200,
  manufacturer: 'GRID',
  model: 'M1',
  terminalId: '1',
  plateColor: 0,
  plate: '',
  layout: 2013,
};

function store(devices: Jt808DeviceRecord[]) {
  const byId = new Map(devices.map((d) => [d.id, { ...d }]));
  return {
    byId,
    find: async (id: string) => byId.get(id) ?? null,
    setSecretHash: async (id: string, h: string) => void (byId.get(id)!.secretHash = h),
  };
}

// A stand-in for the registry's hash, keyed by device id like the HMAC scheme.
const hash = (id: string, s: string) => `h:${id}:${s}`;
const verify = (id: string, s: string, stored: string) => stored === hash(id, s);

describe('jt808Identity', () => {
  it('registration issues a fresh code, stores only its hash, and that code then authenticates', async () => {
    const s = store([{ id: 'jt808-13800138000', kind: 'handset', secretHash: 'old', enabled: true }]);
    let n = 0;
    const id = jt808Identity(s, { hash, verify, newCode: () => `code-${++n}` });
    expect(await id.register('13800138000', info)).toEqual({ result: 0, authCode: 'code-1' });
    expect(s.byId.get('jt808-13800138000')!.secretHash).toBe('h:jt808-13800138000:code-1');
    expect(await id.authenticate('13800138000', 'code-1')).toEqual({ deviceId: 'jt808-13800138000' });
    // A reset terminal registers again: the old code stops working.
    await id.register('13800138000', info);
    expect(await id.authenticate('13800138000', 'code-1')).toBeNull();
    expect(await id.authenticate('13800138000', 'code-2')).toEqual({ deviceId: 'jt808-13800138000' });
  });

  it('refuses unknown, disabled and non-handset devices (0x8100 result 4), and an empty code', async () => {
    const s = store([
      { id: 'jt808-1', kind: 'handset', secretHash: hash('jt808-1', ''), enabled: false },
      { id: 'jt808-2', kind: 'door', secretHash: 'x', enabled: true },
      { id: 'jt808-3', kind: 'handset', secretHash: hash('jt808-3', ''), enabled: true },
    ]);
    const id = jt808Identity(s, { hash, verify });
    for (const t of ['9', '1', '2']) expect(await id.register(t, info)).toEqual({ result: 4 });
    expect(await id.authenticate('1', '')).toBeNull();
    expect(await id.authenticate('3', '')).toBeNull();
  });

  it('defaults to the scrypt secrets of common/secrets.ts', async () => {
    const s = store([{ id: 'jt808-5', kind: 'handset', secretHash: 'none', enabled: true }]);
    const id = jt808Identity(s);
    const { authCode } = await id.register('5', info);
    expect(s.byId.get('jt808-5')!.secretHash).toMatch(/^scrypt\$/);
    expect(await id.authenticate('5', authCode!)).toEqual({ deviceId: 'jt808-5' });
    expect(await id.authenticate('5', `${authCode}x`)).toBeNull();
  });
});
