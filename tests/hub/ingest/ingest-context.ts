// Builders for the per-stage tests: a message as the pipeline hands it to a stage, and the devices
// the stages know. Each stage is run on its own, without the pipeline around it.
import type { IngestContext } from '../../../hub/ingest/ingest-types.js';
import { emptyRows, type DeviceInfo } from '../../../hub/rows/row-types.js';

export const T0 = Date.parse('2026-12-01T08:00:00Z');

export function aContext(over: Partial<IngestContext> = {}): IngestContext {
  return { topic: 'grid/v1/devices/hs-1/location', payload: Buffer.from('{}'), receivedAt: T0, rows: emptyRows(), ...over };
}

export const HANDSET: DeviceInfo = Object.freeze({ id: 'hs-1', kind: 'handset', workerId: 'w-1', gridCode: null, lat: null, lon: null });
export const DOOR: DeviceInfo = Object.freeze({ id: 'door-1', kind: 'door', workerId: null, gridCode: 'G1', lat: 27.85, lon: 113.1 });
