// Opt-in: the board module on Espruino's real interpreter, its Linux build, named by
// HOOKWIRE_ESPRUINO (build it from Espruino's sources; nothing of it is in this repository).
// The module and a test app are written to the interpreter's Storage at its REPL, as to a
// board, and `load("app.js")` runs the app against a real bridge: connect, a QoS 1 publish
// settled by its PUBACK, typed data, a refused publish with its code, and a webhook's
// response in parts joined byte-exact. The app prints its free variables (JsVars) on the way.
// Without HOOKWIRE_ESPRUINO the test says it was skipped.

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { HookwireEvent } from '../../bridge/events/index.ts';
import { startInterpreter, PROMPT, type Interpreter } from '../../scripts/lib/espruino-linux.ts';
import { testBridge, until, type TestBridge } from '../helpers/bridge.ts';
import { espruinoModule } from '../helpers/espruino.ts';
import { receiver, type Receiver } from '../helpers/receiver.ts';

const binary = process.env.HOOKWIRE_ESPRUINO;

/** The response body: 1300 bytes, a 2-byte "é" ending each 512-byte part, a 3-byte "€" starting the next. */
const BODY = 'a'.repeat(510) + 'é' + '€' + 'b'.repeat(507) + 'é' + '€' + 'c'.repeat(273);

/** The firmware: ASCII except one UTF-8 "é", which either kind of build reads as text. */
function app(port: number, id: string, token: string): string {
  return `
var out = { free: { loaded: process.memory().free } };
var device = require("hookwire").connect({ host: "127.0.0.1", port: ${port}, deviceId: "${id}", token: "${token}" });
var parts = [], quiet;
function finish() {
  out.parts = parts.length;
  console.log("BODY " + JSON.stringify(parts.join("")));
  parts = [];
  // What is left for the app once the round trip is over and its answer handled.
  setTimeout(function () {
    out.free.afterRoundTrip = process.memory().free;
    console.log("RESULT " + JSON.stringify(out));
  }, 100);
}
device.on("error", function (e) { console.log("ERROR " + e.code); });
device.on("connect", function () {
  device.subscribe("${id}/hook-response/interp/", function (name, data) {
    parts[name.split("/").pop()] = data;
    if (quiet) clearTimeout(quiet);
    quiet = setTimeout(finish, 300);
  }, function () {
    device.publish("interp-typed", { t: 21.4, s: "é", n: [1, -2] }, { qos: 1 });
    device.publish("bad-cbor", new Uint8Array([0xd9, 0xd9, 0xf7, 0xff]), { qos: 1 }, function (err) { out.refused = err && err.code; });
    device.publish("interp", "go", { qos: 1 }, function (err) { out.puback = err ? err.code : "ok"; });
  });
});`;
}

if (!binary || !existsSync(binary)) {
  const reason = binary ? `${binary} does not exist` : 'set HOOKWIRE_ESPRUINO to the path of Espruino\'s Linux build (docs/espruino.md)';
  console.log(`\n  skipped: the board module on Espruino's interpreter (${reason})`);
  test(`Espruino interpreter: skipped (${reason})`, () => {});
} else {
  let b: TestBridge;
  let web: Receiver;
  let dir: string;
  let interpreter: Interpreter | undefined;
  const events: HookwireEvent[] = [];

  test.before(async () => {
    b = await testBridge();
    web = await receiver();
    b.bus.on('event', (e) => events.push(e));
    dir = await mkdtemp(join(tmpdir(), 'hookwire-espruino-'));
  });

  test.after(async () => {
    await interpreter?.stop();
    await web?.close();
    await b?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test(`Espruino interpreter (${binary}): the module from Storage does the round trip`, async () => {
    web.on('/interp', (_req, res) => res.end(BODY));
    const hook = await b.call('POST', '/v1/integrations', { integration_type: 'Webhook', event: 'interp', url: `${web.url}/interp`, requestType: 'GET', noDefaults: true });
    assert.is(hook.status, 201);
    const device = await b.addDevice();

    const it = startInterpreter(binary, dir);
    interpreter = it;
    await it.waitFor(PROMPT);
    await it.writeFile('hookwire', await espruinoModule());
    await it.writeFile('app.js', app(b.mqttPort, device.id, device.token));
    const from = it.output().length;
    void it.type('load("app.js")').catch(() => {}); // load() restarts: the prompt comes back later
    const [, json] = await it.waitFor(/RESULT (.*)\n/, 20_000, from);
    const result = JSON.parse(json!) as { parts: number; puback: string; refused: string; free: Record<string, number> };

    // A Unicode build prints text; an 8-bit build prints the UTF-8 bytes of its byte strings.
    const printed = JSON.parse((await it.waitFor(/BODY (.*)\n/, 1000, from))[1]!) as string;
    const body = /[^\u0000-\u00ff]/.test(printed) ? printed : Buffer.from(printed, 'latin1').toString('utf8');
    assert.is(result.parts, 3);
    assert.is(body, BODY, 'joined byte-exact');
    assert.is(result.puback, 'ok');
    assert.is(result.refused, 'EVENT_DATA_INVALID');
    await until(() => events.some((e) => e.name === 'interp-typed'));
    assert.equal(JSON.parse(events.find((e) => e.name === 'interp-typed')!.data), { t: 21.4, s: 'é', n: [1, -2] });
    assert.not.ok(/ERROR |Uncaught/.test(it.output().slice(from)), it.output().slice(from));
    console.log(`  free JsVars: ${JSON.stringify(result.free)}`);
    assert.ok(result.free.afterRoundTrip! >= 600, `at least 600 variables left for the app (${result.free.afterRoundTrip})`);
  });
}

test.run();
