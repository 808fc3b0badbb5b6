// Fuzzing templates and event data through parseTemplate and renderRequest (seeded,
// bounded): every refusal is a HookwireError with a stable code (never a TypeError or a
// RangeError), and an error's message never quotes a literal of the template (a secret).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HookwireError } from '../../../bridge/errors.ts';
import { eventFrom, isRefused } from '../../../bridge/events/index.ts';
import { parseTemplate, renderRequest } from '../../../bridge/webhooks/index.ts';
import { DEVICE } from '../../helpers/store.ts';
import { FUZZ_SEED, rng } from '../../helpers/fuzz.ts';

const CANARY = 'CANARY7f3e';
const RUNS = 5_000;
const BUDGET_MS = 4_000;

test(`${RUNS} random templates and events (seed ${FUZZ_SEED}): refusals have codes, messages never quote the template`, () => {
  const r = rng();
  const started = Date.now();
  let parsed = 0;
  let rendered = 0;
  for (let i = 0; i < RUNS && Date.now() - started < BUDGET_MS; i++) {
    const raw = r.json(4) as Record<string, unknown>;
    const template = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {};
    // Usually a template that parses, with a literal the error must never show.
    if (r.chance(0.8)) {
      template.event = r.pick(['temp', 'a/b', 'x']);
      template.url = r.pick([`https://example.com/${CANARY}/{{{x}}}`, `https://example.com/p?k=${CANARY}&v={{x}}`, `http://127.0.0.1:9/{{a}}/{{{b}}}`, r.text(30)]);
      if (r.chance(0.5)) template.json = r.pick([`{"k": "${CANARY}", "v": "{{{PARTICLE_EVENT_VALUE}}}"}`, `{"k": "${CANARY}", "v": {{x}}}`, { k: CANARY, v: '{{x}}', n: r.json(2) }]);
      if (r.chance(0.3)) template.headers = { 'X-K': `${CANARY}{{x}}`, [r.text(8)]: r.text(20) };
    }
    let t;
    try {
      t = parseTemplate(template);
      parsed++;
    } catch (err) {
      assert.instance(err, HookwireError, `parseTemplate threw ${(err as Error)?.name}: ${(err as Error)?.message}`);
      assert.type((err as HookwireError).code, 'string');
      continue;
    }
    const data = r.chance(0.5) ? Buffer.from(JSON.stringify(r.json(3)) ?? 'null') : r.chance(0.5) ? Buffer.from(r.text(200)) : r.bytes(r.int(64));
    const event = eventFrom('temp', data, { coreid: DEVICE, productId: null, firmwareVersion: null }, 'device');
    if (isRefused(event)) continue;
    try {
      renderRequest(t, event);
      rendered++;
    } catch (err) {
      assert.instance(err, HookwireError, `renderRequest threw ${(err as Error)?.name}: ${(err as Error)?.message}`);
      assert.is((err as HookwireError).code, 'TEMPLATE_INVALID');
      assert.not.ok((err as Error).message.includes(CANARY), `the message quotes the template: ${(err as Error).message}`);
    }
  }
  assert.ok(parsed > 100 && rendered > 50, `too few reached the end: ${parsed} parsed, ${rendered} rendered`);
});

test.run();
