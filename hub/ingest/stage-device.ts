// Stage: the device must be registered and allowed to use this channel. The broker already
// enforces this for its own clients; the hub checks again because it may sit behind another broker.
import { PUBLISH_CHANNELS } from '../../protocol/topics.js';
import type { DeviceDirectory } from '../rows/device-directory.js';
import type { IngestContext, IngestStage, StageOutcome } from './ingest-types.js';

export function deviceStage(devices: DeviceDirectory): IngestStage {
  return {
    name: 'device',
    async run(ctx: IngestContext): Promise<StageOutcome> {
      const device = devices.get(ctx.deviceId!) ?? (await devices.lookup(ctx.deviceId!));
      if (!device) return { reject: 'unknown_device' };
      if (!(PUBLISH_CHANNELS[device.kind] as readonly string[]).includes(ctx.channel!)) return { reject: 'channel_not_allowed' };
      ctx.device = device;
      return undefined;
    },
  };
}
