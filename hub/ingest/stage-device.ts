// Stage: the device must be registered and allowed to use this channel. The broker already
// enforces this for its own clients; the hub checks again because it may sit behind another broker.
import { PUBLISH_CHANNELS } from '../../protocol/topics.js';
import type { DeviceDirectory } from '../rows/device-directory.js';
import type { DeviceInfo } from '../rows/row-types.js';
import type { IngestContext, IngestStage, StageOutcome } from './ingest-types.js';

export function deviceStage(devices: DeviceDirectory): IngestStage {
  const admit = (ctx: IngestContext, device: DeviceInfo | undefined): StageOutcome => {
    if (!device) return { reject: 'unknown_device' };
    if (!(PUBLISH_CHANNELS[device.kind] as readonly string[]).includes(ctx.channel!)) return { reject: 'channel_not_allowed' };
    ctx.device = device;
    return undefined;
  };
  return {
    name: 'device',
    // Synchronous for a device the directory holds (every message but a new device's first): the
    // pipeline then runs the message without a promise (ingest-pipeline.ts).
    run(ctx: IngestContext): StageOutcome | Promise<StageOutcome> {
      const known = devices.get(ctx.deviceId!);
      if (known) return admit(ctx, known);
      return devices.lookup(ctx.deviceId!).then((device) => admit(ctx, device));
    },
  };
}
