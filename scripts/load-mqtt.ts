// An MQTT load generator: a handful of devices (plain mqtt.js clients with the devices'
// credentials) publishing one event as fast as a bounded window allows. Used by
// scripts/bench-broker.ts, in its own process (`spawnLoad`) or in the caller's (`startLoad`).
//
// Few devices with a window each, rather than thousands of devices, so the generator's own
// CPU is spent on publishes, not on connections, and stays off the critical path.

import { pathToFileURL } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { spawnTs, type Child } from './lib/bench.ts';

export interface LoadOptions {
  /** Broker URL, e.g. mqtt://127.0.0.1:1883. */
  url: string;
  /** Devices to publish as: client ID = username = id, password = token. */
  devices: { id: string; token: string }[];
  qos: 0 | 1;
  /**
   * Publishes in flight per device: not yet acknowledged (QoS 1); for QoS 0, the size of a
   * block of publishes followed by a PINGREQ, two blocks at most unanswered.
   */
  window: number;
  /** Event name (= topic). */
  topic: string;
  /** Event data. */
  payload: string;
  /** PEM of the CA that signed the broker's certificate (mqtts:// URLs). */
  ca?: string | undefined;
}

export interface LoadStats {
  /** Publishes handed to mqtt.js. */
  sent: number;
  /** Publishes acknowledged (QoS 1), or read by the broker (QoS 0: answered PINGREQs). */
  done: number;
  errors: number;
}

export interface Load {
  stats(): LoadStats | Promise<LoadStats>;
  /** Stop publishing and disconnect; resolves with the final stats. */
  stop(): Promise<LoadStats>;
}

function connect(url: string, id: string, token: string, ca: string | undefined): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      clientId: id, username: id, password: token, ...(ca ? { ca } : {}),
      // No keep-alive pings: every PINGRESP is then the answer to a block's PINGREQ.
      protocolVersion: 4, clean: true, reconnectPeriod: 0, connectTimeout: 10_000, keepalive: 0,
    });
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

/** Connect the devices, then publish until stopped. */
export async function startLoad(options: LoadOptions): Promise<Load> {
  const clients = await Promise.all(options.devices.map((d) => connect(options.url, d.id, d.token, options.ca)));
  const payload = Buffer.from(options.payload);
  const publishOptions = { qos: options.qos };
  const stats: LoadStats = { sent: 0, done: 0, errors: 0 };
  let running = true;

  for (const client of clients) {
    client.on('error', () => stats.errors++);
    if (options.qos === 1) publishAcked(client);
    else publishInBlocks(client);
  }

  /** QoS 1: at most `window` publishes without their PUBACK. */
  function publishAcked(client: MqttClient): void {
    let inFlight = 0;
    const settled = (err?: Error) => {
      inFlight--;
      if (err) stats.errors++;
      else stats.done++;
      pump();
    };
    const pump = () => {
      while (running && inFlight < options.window && client.connected) {
        inFlight++;
        stats.sent++;
        client.publish(options.topic, payload, publishOptions, settled);
      }
    };
    pump();
  }

  /**
   * QoS 0 has no acknowledgement, and a socket takes megabytes before it pushes back, so
   * the broker would face a backlog of hundreds of thousands of events (still draining long
   * after the window). Instead: blocks of `window` publishes, each followed by a PINGREQ, at
   * most two blocks unanswered. aedes answers a PINGREQ when it parses it, and reads no
   * further until the publishes parsed with it are delivered, so this bounds the backlog.
   */
  function publishInBlocks(client: MqttClient): void {
    const block = () => {
      for (let i = 0; i < options.window; i++) client.publish(options.topic, payload, publishOptions);
      stats.sent += options.window;
      client.sendPing();
    };
    client.on('packetreceive', (packet) => {
      if (packet.cmd !== 'pingresp') return;
      stats.done += options.window;
      if (running && client.connected) block();
    });
    block();
    block();
  }

  return {
    stats: () => ({ ...stats }),
    async stop() {
      running = false;
      // Force: publishes still waiting for their PUBACK do not matter any more.
      await Promise.all(clients.map((c) => new Promise<void>((done) => c.end(true, {}, () => done()))));
      return { ...stats };
    },
  };
}

// ---------------------------------------------------------------------------------------
// In a child process: options as JSON in argv, commands over the IPC channel.

type Command = { cmd: 'stats' } | { cmd: 'stop' };
type Reply = { stats: LoadStats };

export interface RemoteLoad extends Load {
  child: Child;
}

/** Start the generator in its own process; resolves once its devices are connected. */
export async function spawnLoad(options: LoadOptions, nodeArgs: string[] = []): Promise<RemoteLoad> {
  const { child } = await spawnTs({
    name: 'load-mqtt',
    script: 'scripts/load-mqtt.ts',
    args: ['--options', JSON.stringify(options)],
    nodeArgs,
    ipc: true,
    ready: (line) => line.ready === true,
  });
  const proc = child.process;
  const waiting: ((reply: Reply) => void)[] = [];
  proc.on('message', (reply: Reply) => waiting.shift()?.(reply));
  const ask = (command: Command) => new Promise<LoadStats>((resolve, reject) => {
    if (!proc.connected) return reject(new Error('load generator is gone'));
    waiting.push((reply) => resolve(reply.stats));
    proc.send(command);
  });
  return {
    child,
    stats: () => ask({ cmd: 'stats' }),
    async stop() {
      const stats = await ask({ cmd: 'stop' });
      await child.stop();
      return stats;
    },
  };
}

async function childMain(): Promise<void> {
  const at = process.argv.indexOf('--options');
  const options = JSON.parse(process.argv[at + 1] ?? '') as LoadOptions;
  const load = await startLoad(options);
  process.on('message', (command: Command) => {
    if (command.cmd === 'stats') process.send!({ stats: load.stats() });
    if (command.cmd === 'stop') void load.stop().then((stats) => process.send!({ stats }));
  });
  process.on('disconnect', () => process.exit(0)); // the bench went away
  console.log(JSON.stringify({ ready: true, devices: options.devices.length }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  childMain().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
