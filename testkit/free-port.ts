// Ports for throwaway servers (PostgreSQL, Redis, brokers) so parallel test files never collide.
import { createServer } from 'node:net';

/**
 * Ask the kernel for a free TCP port on 127.0.0.1: bind port 0, read it, close.
 * There is a small race until the caller binds it; fine for throwaway test servers.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('freePort: could not read the bound port'));
        return;
      }
      const { port } = addr;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
