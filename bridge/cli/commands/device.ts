// hookwire device <id> listen|publish, or interactive: be a device from a terminal. A device has
// one MQTT connection (a second one with its ID takes it over, as mosquitto_sub and
// mosquitto_pub with the same ID would do to each other), so one connection here both
// publishes and prints what the device receives: its own space (<id>/hook-response/...,
// <id>/hook-error/..., <id>/hook-sent/...), hook-sent/, and any prefix it subscribes to.
// Through the device SDK, as firmware would be.

import { readFileSync } from 'node:fs';
import { locateBridge } from '../../client/index.ts';
import { connectDevice, type Device, type EventData, type SdkError } from '../../../firmware-sdk/index.ts';
import { isDeviceId } from '../../../firmware-sdk/rules.ts';
import { CliError, defineCommand, usageError, type CliContext } from '../command.ts';
import { nearest } from '../suggest.ts';

/** Seconds `publish` keeps printing what arrives (webhooks answer within their 20 s timeout, most far sooner). */
const DEFAULT_LISTEN_SEC = 10;
/** Give up connecting after this long, ms: the SDK itself would retry forever, as a device should. */
const CONNECT_TIMEOUT_MS = 15_000;

/** Data as one line: text as it is (JSON-quoted when it has control characters), typed data as JSON, bytes as base64. */
export function dataText(data: EventData): string {
  if (typeof data === 'string') return /[\x00-\x1f\x7f]/.test(data) ? JSON.stringify(data) : data;
  if (data instanceof Uint8Array) return `(${data.length} bytes, base64) ${Buffer.from(data).toString('base64')}`;
  return `(typed) ${JSON.stringify(data)}`;
}

/** `time  name  data`, as `hookwire subscribe` prints an event; no data, no trailing spaces. */
export function receivedLine(name: string, data: EventData, at = new Date()): string {
  const text = dataText(data);
  return `${at.toISOString()}  ${name}${text === '' ? '' : `  ${text}`}`;
}

/**
 * What the device listens to: its own space and hook-sent/, then the prefixes asked for. A
 * message is printed once, by the first prefix that covers it (overlapping subscriptions
 * would otherwise print it twice).
 */
class Listener {
  private readonly prefixes: string[] = [];

  constructor(private readonly device: Device, private readonly print: (name: string, data: EventData) => void) {}

  async add(prefix: string): Promise<boolean> {
    if (this.prefixes.includes(prefix)) return false;
    this.prefixes.push(prefix);
    const handler = (name: string, data: EventData) => {
      if (this.prefixes.find((p) => name.startsWith(p)) === prefix) this.print(name, data);
    };
    await this.device.subscribe(prefix, handler); // settles on the SUBACK: nothing published after it is missed
    return true;
  }

  remove(prefix: string): boolean {
    const at = this.prefixes.indexOf(prefix);
    if (at < 0) return false;
    this.prefixes.splice(at, 1);
    this.device.unsubscribe(prefix);
    return true;
  }

  list(): string[] {
    return [...this.prefixes];
  }
}

/** The device's ID: given, or looked up by name through the API. */
async function deviceIdOf(given: string, ctx: CliContext): Promise<string> {
  if (isDeviceId(given)) return given;
  const d = await ctx.api().request<{ id: string }>('GET', `/v1/devices/${encodeURIComponent(given)}`);
  return d.id;
}

interface Session {
  device: Device;
  listener: Listener;
  /** Resolves when Ctrl-C is pressed (and after `ms`, when given). */
  until(ms?: number): Promise<void>;
  close(): Promise<void>;
}

async function open(given: string, values: { token?: string; mqtt?: string; json?: boolean }, ctx: CliContext): Promise<Session> {
  const token = values.token ?? ctx.env.HOOKWIRE_DEVICE_TOKEN;
  if (!token) throw usageError(`the device's token is needed: --token T or HOOKWIRE_DEVICE_TOKEN (hookwire devices token ${given} makes a new one)`);
  const id = await deviceIdOf(given, ctx);
  const where = locateBridge(ctx.env, { mqtt: values.mqtt });
  if (!where.mqtt) throw usageError(`no broker URL: the API URL ${where.http} is not a URL; give --mqtt mqtt://host:1883`);
  const ca = ctx.env.HOOKWIRE_CA ? readFileSync(ctx.env.HOOKWIRE_CA) : undefined;

  const device = await connecting(id, token, where.mqtt, ca, where.mqttFrom, given !== id ? given : undefined);
  const print = (name: string, data: EventData) => ctx.out(values.json ? JSON.stringify({ received_at: new Date().toISOString(), name, data: typeof data === 'string' ? data : dataText(data) }) : receivedLine(name, data));
  device.on('refused', (err) => {
    const e = err as SdkError;
    ctx.err(`refused by the bridge: ${e.message}${e.event ? ` (event ${e.event})` : ''}`);
  });
  let closing = false;
  device.on('disconnect', () => {
    if (!closing) ctx.err('connection lost; reconnecting (another connection with this device ID takes it over)');
  });
  device.on('connect', () => ctx.err('reconnected'));
  const listener = new Listener(device, print);
  await listener.add(`${id}/`);
  await listener.add('hook-sent/');
  ctx.err(`Connected as device ${id} to ${where.mqtt}; any other connection with this ID was taken over.`);

  let stopped: () => void = () => {};
  const stop = new Promise<void>((resolve) => { stopped = resolve; });
  const onSigint = () => stopped();
  process.once('SIGINT', onSigint);
  return {
    device,
    listener,
    until(ms) {
      if (ms === undefined) return stop;
      let timer: NodeJS.Timeout | undefined;
      return Promise.race([stop, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); })]).finally(() => clearTimeout(timer));
    },
    async close() {
      closing = true;
      process.off('SIGINT', onSigint);
      await device.disconnect();
    },
  };
}

/** connectDevice, with an answer naming what to change when the broker cannot be reached or refuses. */
async function connecting(id: string, token: string, url: string, ca: Buffer | undefined, from: string, name?: string): Promise<Device> {
  try {
    return await connectDevice({ deviceId: id, token, url, ...(ca ? { ca } : {}), reconnectMaxMs: 5_000, timeoutMs: CONNECT_TIMEOUT_MS });
  } catch (err) {
    const e = err as SdkError;
    if (e.code === 'CONNECT_TIMEOUT') {
      throw new CliError('UNREACHABLE', `cannot reach the broker at ${url} (from ${from}) within ${CONNECT_TIMEOUT_MS / 1000} s; is the bridge running? give --mqtt or HOOKWIRE_MQTT_URL if it is elsewhere`);
    }
    if (e.code === 'CONNECT_REFUSED') {
      // Found by its name, the device exists: the token is what is wrong.
      throw new CliError(e.code, name
        ? `the bridge refused device ${id} (${name}) at ${url}: wrong token; hookwire devices token ${name} makes a new one (the old one stops working)`
        : `the bridge refused device ${id} at ${url}: wrong device ID or token (hookwire devices list shows the IDs)`);
    }
    // A TLS failure before the first connection ends connect with Node's code (firmware-sdk/src/node.ts).
    if (typeof e.code === 'string') throw new CliError(e.code, `${e.message}${ca ? '' : '; if a private CA signed the bridge\'s certificate, give --ca FILE or HOOKWIRE_CA'}`);
    throw err;
  }
}

/** Publish with QoS 1, so the bridge's refusal (sent before its PUBACK) is the answer. */
async function publishAs(s: Session, name: string, data: string | undefined, ctx: CliContext): Promise<boolean> {
  try {
    await s.device.publish(name, data, { qos: 1 });
  } catch (err) {
    const e = err as SdkError;
    ctx.err(`error: ${e.message.startsWith(e.code) ? e.message.slice(e.code.length).replace(/^: /, '') || name : e.message} (${e.code})`);
    return false;
  }
  ctx.err(`Published ${name}${data === undefined ? '' : ` (${Buffer.byteLength(data)} bytes of data)`}`);
  return true;
}

const LINE_COMMANDS = ['publish', 'subscribe', 'unsubscribe', 'help', 'quit'];
const LINE_HELP = 'Type: publish <name> [data] | subscribe <prefix> | unsubscribe <prefix> | help | quit (or Ctrl-D)';

/** The first word of a line, and the rest as it was typed. */
function split(line: string): [string, string] {
  const m = /^(\S*)\s*([\s\S]*)$/.exec(line)!;
  return [m[1]!, m[2]!];
}

/** Interactive: one command per line until quit, Ctrl-D or Ctrl-C. */
async function interactive(s: Session, ctx: CliContext): Promise<number> {
  if (!ctx.input) throw usageError('no terminal to read commands from: use listen or publish');
  ctx.err(LINE_HELP);
  const input = ctx.input();
  try {
    return await commandLoop(s, input.lines[Symbol.asyncIterator](), ctx);
  } finally {
    input.close();
  }
}

async function commandLoop(s: Session, lines: AsyncIterator<string>, ctx: CliContext): Promise<number> {
  for (;;) {
    const next = await Promise.race([lines.next(), s.until().then(() => ({ done: true as const, value: undefined }))]);
    if (next.done) return 0;
    const line = next.value.trim();
    if (!line) continue;
    const [word, rest] = split(line);
    switch (word) {
      case 'publish': {
        const [name, data] = split(rest);
        if (!name) ctx.err('publish needs an event name: publish <name> [data]');
        else await publishAs(s, name, data || undefined, ctx);
        break;
      }
      case 'subscribe':
        try {
          ctx.err(await s.listener.add(rest) ? `Subscribed to "${rest}"` : `Already subscribed to "${rest}"`);
        } catch (err) {
          ctx.err(`error: ${(err as Error).message}`);
        }
        break;
      case 'unsubscribe':
        ctx.err(s.listener.remove(rest) ? `Unsubscribed from "${rest}"` : `Not subscribed to "${rest}"; subscribed: ${s.listener.list().map((p) => `"${p}"`).join(', ')}`);
        break;
      case 'help':
        ctx.err(LINE_HELP);
        break;
      case 'quit':
      case 'exit':
        return 0;
      default: {
        const near = nearest(word, LINE_COMMANDS);
        ctx.err(`unknown command "${word}"${near ? `; did you mean "${near}"?` : ''}. ${LINE_HELP}`);
      }
    }
  }
}

export default defineCommand({
  name: 'device',
  summary: 'be a device from this terminal: publish as it, and see what it receives (hook-response, ...), on one connection',
  usage: 'device <device-id|name> [--token T] [--mqtt URL] [--json]',
  withoutSubcommand: 'interactive: type "publish <name> [data]", "subscribe <prefix>", "unsubscribe <prefix>", "quit"; what the device receives is printed as it arrives',
  options: { token: { type: 'string' }, mqtt: { type: 'string' }, json: { type: 'boolean' }, listen: { type: 'string' } },
  common: ['token', 'mqtt', 'json'],
  subcommandAfter: 1,
  subcommands: {
    listen: {
      usage: 'listen [prefix]',
      summary: `print everything the device receives, until Ctrl-C: its own space (<id>/hook-response/..., <id>/hook-error/...), hook-sent/, and events starting with [prefix]`,
      args: 1,
    },
    publish: {
      usage: `publish <name> [data] [--listen SECONDS (default ${DEFAULT_LISTEN_SEC}; 0: not at all)]`,
      summary: 'publish an event as the device, then print what it receives for a while: the hook-sent and the webhook\'s response',
      args: 2,
      options: ['listen'],
    },
  },
  async run({ values, sub, args }, ctx) {
    const [given, first, second] = args;
    if (!given) throw usageError('"device" needs a device ID (or name): hookwire devices list');
    let seconds = DEFAULT_LISTEN_SEC;
    if (values.listen !== undefined) {
      seconds = Number(values.listen);
      if (!(seconds >= 0) || !Number.isFinite(seconds)) throw usageError(`--listen must be a number of seconds, not "${values.listen}"`);
    }
    if (sub === 'publish' && !first) throw usageError('"device publish" needs an event name');

    const s = await open(given, values, ctx);
    try {
      if (sub === 'listen') {
        if (first !== undefined) await s.listener.add(first);
        ctx.err(`Listening to ${s.listener.list().map((p) => `"${p}"`).join(', ')} (Ctrl-C to stop)`);
        await s.until();
        return 0;
      }
      if (sub === 'publish') {
        if (!(await publishAs(s, first!, second, ctx))) return 1;
        if (seconds > 0) {
          ctx.err(`Listening for ${seconds} s (Ctrl-C to stop)`);
          await s.until(seconds * 1000);
        }
        return 0;
      }
      return await interactive(s, ctx);
    } finally {
      await s.close();
    }
  },
});
