// The one registry of error codes: every module's table folded in without a code twice, and the one
// envelope the routes answer with, byte for byte as the device and OwnTracks routes answered before.
import { describe, expect, it } from 'vitest';
import {
  AppError,
  ANALYTICS_ERRORS,
  AUTH_ERRORS,
  DEVICE_ERRORS,
  DISPATCH_ERRORS,
  ERROR_MESSAGES,
  OWNTRACKS_ERRORS,
  PEOPLE_ERRORS,
  REGION_ERRORS,
  errorEnvelope,
} from '../../common/error-codes.js';

describe('error registry', () => {
  it('holds every module table, no code declared by two of them', () => {
    const tables = [DISPATCH_ERRORS, ANALYTICS_ERRORS, REGION_ERRORS, PEOPLE_ERRORS, AUTH_ERRORS, DEVICE_ERRORS, OWNTRACKS_ERRORS];
    const codes = tables.flatMap((t) => Object.keys(t));
    expect(new Set(codes).size).toBe(codes.length);
    expect(Object.keys(ERROR_MESSAGES).sort()).toEqual([...codes].sort());
  });

  it('answers in the one envelope, zh-CN then en, details beside error', () => {
    expect(JSON.stringify(errorEnvelope('DEVICE_NOT_FOUND', { id: 'w-1' }))).toBe(
      '{"ok":false,"error":{"code":"DEVICE_NOT_FOUND","message":"设备不存在 / No such device"},"id":"w-1"}',
    );
    expect(JSON.stringify(errorEnvelope('OWNTRACKS_SECRET_MISMATCH'))).toBe(
      '{"ok":false,"error":{"code":"OWNTRACKS_SECRET_MISMATCH","message":"密钥与该设备不符（请用刚显示的密钥） / The secret is not this device\'s (use the one just shown)"}}',
    );
  });

  it('gives every code its HTTP status, and AppError takes it from there', () => {
    for (const [code, e] of Object.entries(ERROR_MESSAGES)) {
      expect(e.status, code).toBeGreaterThanOrEqual(400);
      expect(e.status, code).toBeLessThan(600);
    }
    // The statuses the routes answered before the registry held them (incident-routes' STATUS table among them).
    expect(
      ['VERSION_CONFLICT', 'NOT_ASSIGNEE', 'REASON_REQUIRED', 'INCIDENT_NOT_FOUND', 'OUT_OF_SCOPE', 'REGIONS_IN_USE'].map(
        (c) => new AppError(c as keyof typeof ERROR_MESSAGES).statusCode,
      ),
    ).toEqual([409, 403, 422, 404, 403, 409]);
  });

  it('AppError carries code, status, message and details', () => {
    const e = new AppError('DEVICE_EXISTS', { id: 'x' });
    expect([e.code, e.statusCode, e.message, e.details]).toEqual([
      'DEVICE_EXISTS',
      409,
      '设备编号已存在 / A device with this id exists already',
      { id: 'x' },
    ]);
    expect(new AppError('UNAUTHENTICATED').details).toEqual({});
  });
});
