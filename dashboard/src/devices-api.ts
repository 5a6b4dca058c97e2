// The device registry over HTTP (hub/devices/device-routes.ts). Types come from the contract in
// protocol/device-api.ts (types only: the page bundles no zod); replies are checked for their shape
// at runtime, as the rest of api-client.ts does, so a half-deployed hub cannot crash the screen.
import type { DeviceCreate, DeviceListReply, DevicePatch, DeviceSecretReply, DeviceView } from '../../protocol/device-api.js';
import { getJson, isRecord, postJson, sendJson } from './api-client.js';

export type { DeviceCreate, DeviceSecretReply, DeviceView };

export interface DeviceFilter {
  kind?: string;
  protocol?: string;
  online?: 'true' | 'false';
  grid?: string;
  q?: string;
}

function asSecretReply(body: unknown, what: string): DeviceSecretReply {
  if (!isRecord(body) || typeof body.secret !== 'string' || !isRecord(body.device)) throw new Error(`${what}: unexpected reply`);
  return body as unknown as DeviceSecretReply;
}

export async function fetchDevices(filter: DeviceFilter): Promise<DeviceListReply> {
  const q = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
  const body = await getJson(`/api/devices${q.size ? `?${q}` : ''}`);
  if (!isRecord(body) || !Array.isArray(body.items)) throw new Error('GET /api/devices: unexpected reply');
  return body as unknown as DeviceListReply;
}

export async function createDevice(input: DeviceCreate): Promise<DeviceSecretReply> {
  return asSecretReply(await postJson('/api/devices', input), 'POST /api/devices');
}

export async function patchDevice(id: string, patch: DevicePatch): Promise<DeviceView> {
  const body = await sendJson('PATCH', `/api/devices/${encodeURIComponent(id)}`, patch);
  if (!isRecord(body) || typeof body.id !== 'string') throw new Error('PATCH /api/devices: unexpected reply');
  return body as unknown as DeviceView;
}

export async function rotateSecret(id: string): Promise<DeviceSecretReply> {
  return asSecretReply(await postJson(`/api/devices/${encodeURIComponent(id)}/secret`), 'POST /api/devices/:id/secret');
}
