// Error codes of the device registry, zh-CN first, in the shape of common/error-codes.ts (whose
// registry the lead may fold this table into). The HTTP error handler puts code and message in
// the one envelope.
import type { UserMessage } from '../../common/error-codes.js';

export const DEVICE_ERRORS = {
  DEVICE_NOT_FOUND: { zh: '设备不存在', en: 'No such device' },
  DEVICE_EXISTS: { zh: '设备编号已存在', en: 'A device with this id exists already' },
  DEVICE_PROTOCOL_ID_TAKEN: { zh: '该协议标识（终端号）已被其他设备使用', en: 'Another device already has this protocol identity (terminal number)' },
  DEVICE_INVALID: { zh: '设备数据有误，未做任何修改', en: 'The device data is invalid; nothing was changed' },
  DEVICE_UNKNOWN_WORKER: { zh: '绑定的人员不存在', en: 'The bound worker does not exist' },
  DEVICE_UNKNOWN_GRID: { zh: '绑定的网格不存在', en: 'The bound grid does not exist' },
  DEVICE_OUT_OF_SCOPE: { zh: '设备不在您的管辖范围内', en: 'The device is outside your area' },
  DEVICE_ADMIN_ONLY: { zh: '只有管理员可以修改设备', en: 'Only an admin can change devices' },
} as const satisfies Record<string, UserMessage>;

export type DeviceErrorCode = keyof typeof DEVICE_ERRORS;

/** A refusal a user may see: code, HTTP status, bilingual message, and details for the envelope. */
export class DeviceError extends Error {
  constructor(
    readonly code: DeviceErrorCode,
    readonly statusCode: number,
    readonly details: Record<string, unknown> = {},
  ) {
    super(`${DEVICE_ERRORS[code].zh} / ${DEVICE_ERRORS[code].en}`);
  }
}
