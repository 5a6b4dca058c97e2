// The two Redis connections of the Socket.IO Redis adapter (one publishes, one subscribes). They
// retry for ever: Redis away stops live changes crossing nodes (each is dropped and counted, the
// next fix says it again), never ingest, which does not touch Redis.
import { Redis } from 'ioredis';
import type { Logger } from '../../common/logger.js';

export function openPeerRedis(url: string, logger: Logger): { pub: Redis; sub: Redis } {
  const log = logger.child({ mod: 'live-peers' });
  const open = (role: string) => {
    const r = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(n * 200, 2000) });
    let down = false;
    r.on('error', (err) => {
      if (!down) log.warn({ role, err: err.message }, 'redis unavailable: live changes stop crossing nodes until it is back');
      down = true;
    });
    r.on('ready', () => {
      if (down) log.warn({ role }, 'redis back: live changes cross nodes again');
      down = false;
    });
    return r;
  };
  return { pub: open('pub'), sub: open('sub') };
}
