// Face-recognition door access at compound gates (门禁): what it reports and how often.
import { AlertDeviceSim, type AlertDeviceSimOptions } from './alert-device-sim.js';
import type { AlertProfile } from './alert-model.js';

export const DOOR_PROFILE: AlertProfile = {
  kinds: [
    {
      type: 'door.stranger',
      weight: 4,
      severity: 'low',
      confidence: [0.55, 0.95],
      data: (r) => ({ matchScore: Math.round(r.float(0.1, 0.5) * 100) / 100 }),
    },
    // A gate propped open reports every so often until closed: the typical repeat.
    { type: 'door.held_open', weight: 3, severity: 'low', confidence: [0.99, 1], data: (r) => ({ openS: r.int(60, 600) }) },
    { type: 'door.tailgating', weight: 2, severity: 'medium', confidence: [0.5, 0.9], data: (r) => ({ persons: r.int(2, 4) }) },
    { type: 'door.forced', weight: 1, severity: 'high', confidence: [0.9, 1] },
    { type: 'door.tamper', weight: 0.5, severity: 'high', confidence: [0.8, 1] },
  ],
  repeatChance: 0.35,
  repeatAfterS: [5, 50],
};

export function createDoorSim(o: Omit<AlertDeviceSimOptions, 'profile'>): AlertDeviceSim {
  if (o.device.kind !== 'door') throw new Error(`${o.device.id} is a ${o.device.kind}, not a door`);
  return new AlertDeviceSim({ ...o, profile: DOOR_PROFILE });
}
