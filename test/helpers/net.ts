// Sockets for failure tests: a port nobody listens on, and a server that accepts and hangs.

import { createServer, type AddressInfo, type Socket } from 'node:net';

/** A port nothing listens on (free a moment ago; a test may start something on it later). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, host, r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface HungServer {
  port: number;
  /** Connections open now. */
  connections(): number;
  close(): Promise<void>;
}

/** A TCP server that accepts connections and never says a word (a hung or black-holed target). */
export async function hungServer(port = 0, host = '127.0.0.1'): Promise<HungServer> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(port, host, r));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => sockets.size,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
