// The size and JSON stages: an empty or oversize payload, and anything but a JSON object, stop
// before the schema is even looked at.
import { describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES } from '../../../protocol/schemas.js';
import { jsonStage, sizeStage } from '../../../hub/ingest/stage-decode.js';
import { aContext } from './ingest-context.js';

describe('size stage', () => {
  it('refuses an empty payload', () => {
    expect(sizeStage.run(aContext({ payload: Buffer.alloc(0) }))).toEqual({ reject: 'empty_payload' });
  });

  it('takes MAX_PAYLOAD_BYTES and refuses one byte more', () => {
    expect(sizeStage.run(aContext({ payload: Buffer.alloc(MAX_PAYLOAD_BYTES, 0x20) }))).toBeUndefined();
    expect(sizeStage.run(aContext({ payload: Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x20) }))).toEqual({ reject: 'oversize' });
  });
});

describe('json stage', () => {
  it('parses a JSON object (UTF-8) for the schema stage', () => {
    const ctx = aContext({ payload: Buffer.from('{"type":"door.forced","note":"配电房"}', 'utf8') });
    expect(jsonStage.run(ctx)).toBeUndefined();
    expect(ctx.json).toEqual({ type: 'door.forced', note: '配电房' });
  });

  it('refuses what does not parse', () => {
    for (const text of ['{', 'lat=27.8', '{"a":1}{"b":2}', '\xff\xfe']) {
      const ctx = aContext({ payload: Buffer.from(text, 'latin1') });
      expect(jsonStage.run(ctx), text).toEqual({ reject: 'bad_json' });
    }
  });

  it('refuses JSON that is not an object: arrays, null, numbers, strings', () => {
    for (const text of ['[]', '[{"ts":1}]', 'null', '42', '"fix"', 'true']) {
      expect(jsonStage.run(aContext({ payload: Buffer.from(text) })), text).toEqual({ reject: 'bad_json: not an object' });
    }
  });
});
