// A TCP proxy between an MQTT client and the broker that a test can steer: hold PUBACKs
// on their way to the client, count the client's PUBLISH packets, cut every connection,
// refuse new ones for a while, or go silent towards the client.

import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

export interface MqttProxy {
  url: string;
  /** PUBLISH packets the client sent through the proxy. */
  publishes: Packet[];
  /** While true, PUBACKs to the client are held back; setting false releases them in order. */
  holdAcks(hold: boolean): void;
  /** Close every open connection (the client sees the network drop). */
  cut(): void;
  /** While true, new connections are closed at once. */
  refuse(refuse: boolean): void;
  /** Connections the client opened so far, refused ones included. */
  connections(): number;
  /** While true, nothing the broker sends reaches the client (a link that died silently). */
  mute(mute: boolean): void;
  close(): Promise<void>;
}

export async function mqttProxy(brokerPort: number): Promise<MqttProxy> {
  const publishes: Packet[] = [];
  const pairs = new Set<[Socket, Socket]>();
  let holding = false;
  let refusing = false;
  let muted = false;
  let accepted = 0;
  const held: { socket: Socket; bytes: Buffer }[] = [];

  const server = createServer((client) => {
    accepted++;
    if (refusing) return client.destroy();
    const upstream = connect(brokerPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);

    const fromClient = mqttPacket.parser({ protocolVersion: 4 });
    fromClient.on('packet', (p: Packet) => { if (p.cmd === 'publish') publishes.push(p); });
    client.on('data', (buf) => {
      fromClient.parse(buf);
      upstream.write(buf);
    });

    const fromBroker = mqttPacket.parser({ protocolVersion: 4 });
    fromBroker.on('packet', (p: Packet) => {
      const bytes = mqttPacket.generate(p);
      if (muted) return;
      if (p.cmd === 'puback' && holding) held.push({ socket: client, bytes });
      else client.write(bytes);
    });
    upstream.on('data', (buf) => fromBroker.parse(buf));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const cut = () => {
    for (const [a, b] of pairs) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
  };

  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    publishes,
    holdAcks(hold) {
      holding = hold;
      if (!hold) for (const { socket, bytes } of held.splice(0)) if (!socket.destroyed) socket.write(bytes);
    },
    cut,
    refuse(r) {
      refusing = r;
    },
    connections: () => accepted,
    mute(m) {
      muted = m;
    },
    async close() {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
