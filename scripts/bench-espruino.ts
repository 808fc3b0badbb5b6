// The board module's round trip: publish → webhook → hook-response at the device, one event
// at a time, p50/p99 over N events (default 1,000, after 50 not counted), in the Espruino
// sandbox and, when HOOKWIRE_ESPRUINO names Espruino's Linux interpreter, on it too.
//
//   npx tsx scripts/bench-espruino.ts [--events 1000]
//   HOOKWIRE_ESPRUINO=/path/to/espruino npx tsx scripts/bench-espruino.ts
//
// The bridge and the webhook receiver (scripts/receiver.ts, answering `ok`) run in processes
// of their own; the app publishes at QoS 1 and times each event with the board's own clock
// (getTime()) from before the publish to the first hook-response part, printing one line per
// event. Results also go to .bench/espruino.json.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { espruinoSandbox } from '../simulator/espruino.ts';
import { buildEspruino } from './build-espruino.ts';
import {
  fmt, intFlag, machineInfo, percentile, printMachine, printTable, registerDevices, runBench, spawnTs, startBridgeProcess, writeResults,
} from './lib/bench.ts';
import { startInterpreter, PROMPT } from './lib/espruino-linux.ts';

const WARMUP = 50;
const usage = 'usage: [HOOKWIRE_ESPRUINO=/path/to/espruino] npx tsx scripts/bench-espruino.ts [--events N (1000)]';

/** The firmware: N + WARMUP events in turn, each line `RT <ms>`, then `DONE`. */
function app(port: number, id: string, token: string, events: number): string {
  return `
var n = 0, t0;
var device = require("hookwire").connect({ host: "127.0.0.1", port: ${port}, deviceId: "${id}", token: "${token}" });
function next() {
  if (n++ >= ${events + WARMUP}) return console.log("DONE " + process.memory().free);
  t0 = getTime();
  device.publish("rt", "x", { qos: 1 });
}
device.subscribe("${id}/hook-response/rt/", function () {
  console.log("RT " + ((getTime() - t0) * 1000).toFixed(3));
  next();
}, function () { next(); });`;
}

function samplesOf(output: string): number[] {
  // The interpreter may print its prompt (">" and an escape sequence) at the start of a line.
  return [...output.matchAll(/RT ([\d.]+)$/gm)].map((m) => Number(m[1])).slice(WARMUP);
}

await runBench(async () => {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '1000' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) return console.log(usage);
  const events = intFlag('events', values.events);
  const machine = machineInfo();
  printMachine(machine);

  const bridge = await startBridgeProcess();
  const { line } = await spawnTs({ name: 'receiver', script: 'scripts/receiver.ts', ready: (l) => typeof l.port === 'number' });
  const hook = await bridge.api('POST', '/v1/integrations', { integration_type: 'Webhook', event: 'rt', url: `http://127.0.0.1:${line.port as number}/rt`, requestType: 'POST' });
  if (hook.status !== 201) throw new Error(`integration: ${hook.status} ${JSON.stringify(hook.body)}`);
  const { code, bytes } = await buildEspruino(false);
  console.log(`module: ${bytes} bytes; ${events} events after ${WARMUP} not counted; QoS 1 publish → hook-response part 0\n`);

  const results: Record<string, { p50: number; p99: number; max: number; n: number }> = {};
  const summarize = (name: string, samples: number[]) => {
    if (samples.length !== events) throw new Error(`${name}: ${samples.length} of ${events} round trips`);
    results[name] = { p50: percentile(samples, 50), p99: percentile(samples, 99), max: Math.max(...samples), n: samples.length };
  };

  // The sandbox: Node's V8 running the module, real sockets.
  const [sandboxDevice] = await registerDevices(bridge, 1);
  const board = espruinoSandbox({ strings: 'bytes' });
  board.writeFile('hookwire', code);
  board.run(app(bridge.mqttPort, sandboxDevice!.id, sandboxDevice!.token, events));
  const deadline = Date.now() + 120_000;
  while (!board.output.some((l) => l.startsWith('DONE'))) {
    if (Date.now() > deadline) throw new Error(`sandbox: timed out\n${board.output.slice(-5).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  board.close();
  summarize('sandbox (Node V8)', samplesOf(board.output.join('\n')));

  // Espruino's own interpreter, module from its Storage, as on a board.
  const binary = process.env.HOOKWIRE_ESPRUINO;
  if (binary) {
    const [device] = await registerDevices(bridge, 1);
    const dir = await mkdtemp(join(tmpdir(), 'hookwire-bench-espruino-'));
    const it = startInterpreter(binary, dir);
    try {
      await it.waitFor(PROMPT);
      await it.writeFile('hookwire', code);
      await it.writeFile('app.js', app(bridge.mqttPort, device!.id, device!.token, events));
      const from = it.output().length;
      void it.type('load("app.js")').catch(() => {});
      const [, free] = await it.waitFor(/DONE (\d+)/, 600_000, from);
      summarize(`Espruino ${binary.split('/').pop()}`, samplesOf(it.output().slice(from)));
      console.log(`free JsVars at the end: ${free}`);
    } finally {
      await it.stop();
      await rm(dir, { recursive: true, force: true });
    }
  } else {
    console.log('Espruino interpreter: not run (set HOOKWIRE_ESPRUINO to its Linux build)');
  }

  printTable(['where', 'events', 'p50 ms', 'p99 ms', 'max ms'],
    Object.entries(results).map(([name, r]) => [name, r.n, fmt(r.p50, 2), fmt(r.p99, 2), fmt(r.max, 2)]));
  console.log(`results: ${await writeResults('espruino', { machine, options: { events }, results })}`);
});
