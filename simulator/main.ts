// `npm run simulate -- --devices N --rate R ...`: simulated devices publishing to a bridge.
// Flags in, validated up front; Ctrl-C (or SIGTERM) stops the run cleanly; summary out.

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { findToken, locateBridge } from '../bridge/client/index.ts';
import { DEFAULTS, checkOptions, runSimulation, type SimulationOptions } from './fleet.ts';
import { formatSummary, statusLine } from './status.ts';

const USAGE = `Usage: npm run simulate -- [options]

Simulated devices publish events to a Hookwire bridge and count the webhook responses.

  --devices N              devices to simulate (default ${DEFAULTS.devices})
  --rate R                 events per second across the whole fleet (default ${DEFAULTS.rate})
  --event NAME             event name (default ${DEFAULTS.event})
  --qos 0|1                1 waits for the bridge to store each event (default ${DEFAULTS.qos})
  --duration S             seconds to publish (default: until Ctrl-C)
  --typed                  publish objects like {temp: 21.4, humidity: 41} (CBOR), not text like 21.37
  --name-prefix P          device names P-0001, P-0002, ... (default ${DEFAULTS.namePrefix})
  --url URL                bridge HTTP API (default HOOKWIRE_URL, else the bridge running on
                           HOOKWIRE_DATA_DIR (its bridge.json), else http://127.0.0.1:8080)
  --mqtt URL               broker (default HOOKWIRE_MQTT_URL, else that bridge's, else
                           mqtt://<host of --url>:1883, or mqtts://<host>:8883 for https://)
  --ca FILE                PEM file of the CA that signed the bridge's certificate (default HOOKWIRE_CA;
                           without it, Node's trusted roots)
  --token T                API token (default HOOKWIRE_TOKEN or the admin-token file in HOOKWIRE_DATA_DIR)
  --connect-concurrency N  devices registering and connecting at once (default ${DEFAULTS.connectConcurrency})
  --json                   print only the summary, as one JSON line
  -h, --help               this help

Device credentials are kept in <HOOKWIRE_DATA_DIR or ./data>/simulator/devices.json, so later
runs reuse the same devices.`;

/** A mistake in how the simulator was invoked: reported with exit code 2. */
class UsageError extends Error {}

const FLAG_TYPES = {
  devices: { type: 'string' },
  rate: { type: 'string' },
  event: { type: 'string' },
  qos: { type: 'string' },
  duration: { type: 'string' },
  typed: { type: 'boolean' },
  'name-prefix': { type: 'string' },
  url: { type: 'string' },
  mqtt: { type: 'string' },
  ca: { type: 'string' },
  token: { type: 'string' },
  'connect-concurrency': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Where each option comes from, so a message names the flag (or variable) to fix. */
const SOURCES: Record<keyof SimulationOptions, { flag?: keyof typeof FLAG_TYPES; env?: string }> = {
  apiUrl: { flag: 'url', env: 'HOOKWIRE_URL' },
  mqttUrl: { flag: 'mqtt', env: 'HOOKWIRE_MQTT_URL' },
  ca: { flag: 'ca', env: 'HOOKWIRE_CA' },
  token: { flag: 'token', env: 'HOOKWIRE_TOKEN' },
  dataDir: { env: 'HOOKWIRE_DATA_DIR' },
  devices: { flag: 'devices' },
  rate: { flag: 'rate' },
  event: { flag: 'event' },
  qos: { flag: 'qos' },
  durationS: { flag: 'duration' },
  typed: { flag: 'typed' },
  namePrefix: { flag: 'name-prefix' },
  connectConcurrency: { flag: 'connect-concurrency' },
};

/** Options from flags, then environment, then defaults; throws UsageError naming the flag. */
function parseOptions(argv: string[], env: NodeJS.ProcessEnv): { options: SimulationOptions; json: boolean } | 'help' {
  let values;
  try {
    values = parseArgs({ args: argv, options: FLAG_TYPES, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\n/g, ' '));
  }
  if (values.help) return 'help';

  // Numbers are checked (with the rest) by checkOptions; NaN fails every check.
  const number = (raw: string | undefined) => (raw === undefined ? undefined : raw.trim() === '' ? NaN : Number(raw));
  const where = locateBridge(env, { url: values.url, mqtt: values.mqtt });
  const options: SimulationOptions = {
    apiUrl: where.http,
    mqttUrl: where.mqtt,
    ca: values.ca ?? (env.HOOKWIRE_CA || undefined),
    token: values.token ?? findToken(env) ?? '',
    dataDir: resolve(env.HOOKWIRE_DATA_DIR || './data'),
    devices: number(values.devices),
    rate: number(values.rate),
    event: values.event,
    qos: number(values.qos) as 0 | 1 | undefined,
    durationS: number(values.duration),
    typed: values.typed,
    namePrefix: values['name-prefix'],
    connectConcurrency: number(values['connect-concurrency']),
  };

  const invalid = checkOptions(options);
  if (invalid) {
    const { flag, env: variable } = SOURCES[invalid.option];
    const given = flag && values[flag];
    const source = given === undefined && variable ? variable : `--${flag}`;
    throw new UsageError(`${source} ${invalid.problem}, got ${JSON.stringify(given ?? options[invalid.option])}`);
  }
  if (!options.token) {
    throw new UsageError('no API token: pass --token, set HOOKWIRE_TOKEN, or set HOOKWIRE_DATA_DIR to the bridge\'s data directory (it writes admin-token there)');
  }
  return { options, json: values.json === true };
}

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`simulate: ${err.message}\nsee: npm run simulate -- --help\n`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const { options, json } = parsed;

  // The first Ctrl-C stops cleanly (summary included); a second one does not wait.
  const controller = new AbortController();
  const stop = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  // --json: stdout carries the summary line and nothing else.
  const line = json ? undefined : statusLine(process.stdout, process.stderr);
  try {
    const summary = await runSimulation(options, {
      signal: controller.signal,
      onStatus: line?.update,
      onNote: line?.note,
    });
    line?.end();
    process.stdout.write((json ? JSON.stringify(summary) : formatSummary(summary).join('\n')) + '\n');
    return 0;
  } catch (err) {
    line?.end();
    process.stderr.write(`simulate: ${(err as Error).message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

process.exitCode = await main(process.argv.slice(2), process.env);
// Everything is closed by now and Node exits by itself; should a stray socket keep it alive,
// do not hang after the summary. (Unref'd: this timer alone keeps nothing running.)
setTimeout(() => process.exit(), 2_000).unref();
