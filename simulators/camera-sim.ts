// Street and compound cameras with on-device video analytics: what they report and how often.
import { AlertDeviceSim, type AlertDeviceSimOptions } from './alert-device-sim.js';
import type { AlertProfile } from './alert-model.js';

export const CAMERA_PROFILE: AlertProfile = {
  kinds: [
    {
      type: 'camera.parking',
      weight: 4,
      severity: 'low',
      confidence: [0.6, 0.95],
      data: (r) => ({ plate: `湘B${r.int(10000, 99999)}`, parkedS: r.int(300, 3600) }),
    },
    { type: 'camera.garbage', weight: 3, severity: 'low', confidence: [0.5, 0.9] },
    { type: 'camera.crowd', weight: 2, severity: 'medium', confidence: [0.6, 0.95], data: (r) => ({ count: r.int(20, 150) }) },
    { type: 'camera.intrusion', weight: 1.5, severity: 'high', confidence: [0.6, 0.98] },
    { type: 'camera.fall', weight: 1, severity: 'high', confidence: [0.55, 0.95] },
    { type: 'camera.smoke', weight: 0.7, severity: 'high', confidence: [0.5, 0.9] },
    { type: 'camera.fire', weight: 0.3, severity: 'critical', confidence: [0.6, 0.97] },
  ],
  // Analytics re-fire on every frame window while the scene lasts; they repeat more than doors.
  repeatChance: 0.45,
  repeatAfterS: [5, 50],
  snapshot: true,
};

export function createCameraSim(o: Omit<AlertDeviceSimOptions, 'profile'>): AlertDeviceSim {
  if (o.device.kind !== 'camera') throw new Error(`${o.device.id} is a ${o.device.kind}, not a camera`);
  return new AlertDeviceSim({ ...o, profile: CAMERA_PROFILE });
}
