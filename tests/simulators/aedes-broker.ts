// A bare Aedes broker on an ephemeral port, no auth unless a hook is given: enough to play the
// simulators against real MQTT without the project's broker (the lead's tests cover that one).
import { createServer, type AddressInfo } from 'node:net';
import { Aedes, type AedesOptions } from 'aedes';

type AuthenticateHandler = NonNullable<AedesOptions['authenticate']>;

export interface TestBroker {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startTestBroker(authenticate?: AuthenticateHandler): Promise<TestBroker> {
  const broker = await Aedes.createBroker(authenticate ? { authenticate } : {});
  const server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
