// A bare aedes broker: no authentication, no rules, no hooks — the ceiling the bridge's
// broker is compared with in scripts/bench-broker.ts.
//
//   npx tsx scripts/bare-broker.ts [--port 0] [--no-delay]
//
// Prints `{"port": N}` on stdout once listening. Stops on SIGTERM/SIGINT, or when stdin
// ends (so it does not outlive a bench that started it and died).

import { createServer, type AddressInfo, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { Aedes } from 'aedes';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    /** Disable Nagle on accepted sockets, as the bridge's broker does (bridge/broker/index.ts). */
    'no-delay': { type: 'boolean', default: false },
  },
  strict: true,
});

const aedes = await Aedes.createBroker();
const noDelay = values['no-delay'];
const server = createServer((socket: Socket) => {
  if (noDelay) socket.setNoDelay(true);
  aedes.handle(socket);
});
server.listen(Number(values.port), '127.0.0.1', () => {
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port, noDelay }));
});

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  server.close();
  aedes.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (!process.stdin.isTTY) {
  process.stdin.on('end', stop);
  process.stdin.resume();
}
