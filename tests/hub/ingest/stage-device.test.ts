// The device stage: a registered device, on a channel its kind may publish to. The directory it
// asks is the hub's own, over a stand-in for the devices table (no database).
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { DeviceDirectory } from '../../../hub/rows/device-directory.js';
import { deviceStage } from '../../../hub/ingest/stage-device.js';
import type { UpstreamChannel } from '../../../protocol/topics.js';
import { DOOR, HANDSET, T0, aContext } from './ingest-context.js';

interface DeviceRow {
  id: string;
  kind: string;
  worker_id: string | null;
  grid_code: string | null;
  lat: number | null;
  lon: number | null;
  protocol: string;
}

/** The devices table as the directory reads it; counts the queries. */
function devicesTable(rows: DeviceRow[]) {
  const table = { rows, queries: 0 };
  const pool = {
    query: async (_sql: string, params?: unknown[]) => {
      table.queries++;
      const found = params ? rows.filter((r) => r.id === params[0]) : rows;
      return { rows: found, rowCount: found.length };
    },
  } as unknown as Pick<pg.Pool, 'query'>;
  return { table, pool };
}

const row = (d: typeof HANDSET): DeviceRow => ({
  id: d.id,
  kind: d.kind,
  worker_id: d.workerId,
  grid_code: d.gridCode,
  lat: d.lat,
  lon: d.lon,
  protocol: 'native',
});

async function stageWith(rows: DeviceRow[], loaded: DeviceRow[] = rows) {
  const { table, pool } = devicesTable(loaded);
  const directory = new DeviceDirectory(pool, () => T0);
  await directory.load();
  table.rows.splice(0, table.rows.length, ...rows);
  table.queries = 0;
  return { stage: deviceStage(directory), table };
}

const run = async (stage: ReturnType<typeof deviceStage>, deviceId: string, channel: UpstreamChannel) => {
  const ctx = aContext({ deviceId, channel });
  return { outcome: await stage.run(ctx), ctx };
};

describe('device stage', () => {
  it('passes a registered device on with what the rows need, without a query', async () => {
    const { stage, table } = await stageWith([row(HANDSET), row(DOOR)]);
    const { outcome, ctx } = await run(stage, 'hs-1', 'location');
    expect(outcome).toBeUndefined();
    expect(ctx.device).toEqual(HANDSET);
    expect(table.queries).toBe(0);
  });

  it('refuses an unknown device, and asks the table once for it, not once per message', async () => {
    const { stage, table } = await stageWith([row(HANDSET)]);
    expect((await run(stage, 'hs-9', 'location')).outcome).toEqual({ reject: 'unknown_device' });
    expect((await run(stage, 'hs-9', 'location')).outcome).toEqual({ reject: 'unknown_device' });
    expect(table.queries).toBe(1);
  });

  it('finds a device registered after the hub started', async () => {
    const { stage, table } = await stageWith([row(HANDSET), row(DOOR)], [row(HANDSET)]);
    const { outcome, ctx } = await run(stage, 'door-1', 'events');
    expect(outcome).toBeUndefined();
    expect(ctx.device).toEqual(DOOR);
    expect(table.queries).toBe(1);
  });

  it("refuses a channel the device's kind may not publish to", async () => {
    const { stage } = await stageWith([row(HANDSET), row(DOOR)]);
    for (const channel of ['location', 'reports', 'task-replies'] as const) {
      const { outcome, ctx } = await run(stage, 'door-1', channel);
      expect(outcome, channel).toEqual({ reject: 'channel_not_allowed' });
      expect(ctx.device).toBeUndefined();
    }
    for (const channel of ['presence', 'events', 'status'] as const)
      expect((await run(stage, 'door-1', channel)).outcome, channel).toBeUndefined();
    // A handset's own alarms (SOS, power cut) come on events too.
    expect((await run(stage, 'hs-1', 'events')).outcome).toBeUndefined();
  });
});
