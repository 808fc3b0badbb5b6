// MQTT clients for tests: mqtt.js as a plain third-party client, and a raw socket that
// speaks packets built with mqtt-packet (for what well-behaved clients never send).

import { connect as tcpConnect, type Socket } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import mqttPacket, { type Packet } from 'mqtt-packet';

export interface Received {
  topic: string;
  payload: Buffer;
}

export interface TestClient {
  client: MqttClient;
  received: Received[];
  topics(): string[];
  end(): Promise<void>;
}

/** An mqtt.js client, connected; every message it receives is kept in `received`. */
export async function mqttClient(url: string, options: IClientOptions): Promise<TestClient> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options });
  const received: Received[] = [];
  client.on('message', (topic, payload) => received.push({ topic, payload }));
  return {
    client,
    received,
    topics: () => received.map((r) => r.topic),
    end: () => client.endAsync(true),
  };
}

/** Connect as a device: client ID = username = device ID, password = token. */
export function deviceClient(url: string, device: { id: string; token: string }, options: IClientOptions = {}): Promise<TestClient> {
  return mqttClient(url, { clientId: device.id, username: device.id, password: device.token, ...options });
}

/** The CONNACK return code a connection attempt gets (0 = accepted). */
export async function connackCode(url: string, options: IClientOptions): Promise<number> {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options });
  return new Promise((resolve, reject) => {
    client.once('connect', () => client.end(true, {}, () => resolve(0)));
    client.once('error', (err: Error & { code?: unknown }) => {
      client.end(true);
      if (typeof err.code === 'number') resolve(err.code);
      else reject(err);
    });
  });
}

export interface RawClient {
  socket: Socket;
  packets: Packet[];
  send(packet: Packet): void;
  /** The first packet (from now or already received) matching `match`. */
  next(match: (p: Packet) => boolean, ms?: number): Promise<Packet>;
  /** Resolves when the broker closes the connection. */
  closed: Promise<void>;
}

/** A bare TCP connection speaking MQTT packets we build ourselves. */
export async function rawClient(port: number): Promise<RawClient> {
  const socket = tcpConnect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const packets: Packet[] = [];
  const waiters: { match: (p: Packet) => boolean; resolve: (p: Packet) => void }[] = [];
  parser.on('packet', (p: Packet) => {
    packets.push(p);
    for (const w of [...waiters]) if (w.match(p)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(p);
    }
  });
  socket.on('data', (buf) => parser.parse(buf));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    socket,
    packets,
    closed,
    send: (packet) => socket.write(mqttPacket.generate(packet)),
    next(match, ms = 3000) {
      const seen = packets.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no matching packet')), ms);
        waiters.push({ match, resolve: (p) => { clearTimeout(timer); resolve(p); } });
      });
    },
  };
}

/** A CONNECT packet for a device. */
export function connectPacket(device: { id: string; token: string }): Packet {
  return { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: device.id, keepalive: 30, username: device.id, password: Buffer.from(device.token) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
