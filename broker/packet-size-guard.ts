// Caps the size of one MQTT packet before Aedes parses it. Aedes has no maximum packet size of its
// own, so an oversize or endless packet would be buffered whole; like mosquitto's
// message_size_limit we close the connection as soon as the fixed header announces too much.
import { Transform, type TransformCallback } from 'node:stream';

export class PacketSizeGuard extends Transform {
  /** Bytes still to pass through for the packet being read. */
  private remaining = 0;
  /** Fixed-header bytes collected while between packets. */
  private header: number[] = [];

  constructor(
    private readonly maxBytes: number,
    private readonly onOversize: (announced: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        continue;
      }
      this.header.push(chunk[i]!);
      i++;
      const len = this.announcedLength();
      if (len === 'more') continue;
      if (len === 'bad' || len > this.maxBytes) {
        this.onOversize(len === 'bad' ? -1 : len);
        done(new Error(`MQTT packet over ${this.maxBytes} bytes`));
        return;
      }
      this.remaining = len;
      this.header = [];
    }
    done(null, chunk);
  }

  /** Remaining Length of the fixed header (MQTT 3.1.1 §2.2.3), once all its bytes are in. */
  private announcedLength(): number | 'more' | 'bad' {
    if (this.header.length < 2) return 'more';
    let value = 0;
    let mult = 1;
    for (let j = 1; j < this.header.length; j++) {
      const b = this.header[j]!;
      value += (b & 0x7f) * mult;
      if ((b & 0x80) === 0) return value;
      mult *= 128;
      if (j >= 4) return 'bad';
    }
    return 'more';
  }
}
