// Stock Aedes for the baseline of `bench:ingest --baseline aedes`: defaults, no authentication, no
// hooks, plain net server; reports its port to the parent.
import net from 'node:net';
import { Aedes } from 'aedes';

const aedes = await Aedes.createBroker();
const server = net.createServer(aedes.handle);
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as net.AddressInfo).port }));
process.on('SIGTERM', () => server.close(() => aedes.close(() => process.exit(0))));
