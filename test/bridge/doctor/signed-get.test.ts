// SIGNED_GET_QUERY (bridge/doctor/checks/signed-get.ts): a signed GET integration whose event
// data travels in the query string, which the signature does not cover. Templates made through
// the real API, signed with a real secret.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { signedGetQuery, unsignedQueryParts } from '../../../bridge/doctor/checks/signed-get.ts';
import { testBridge, type TestBridge } from '../../helpers/bridge.ts';

let b: TestBridge;

test.before(async () => {
  b = await testBridge();
});
test.after(async () => {
  await b?.stop();
});

async function integration(template: Record<string, unknown>, signed: boolean): Promise<string> {
  const made = await b.call('POST', '/v1/integrations', { url: 'https://target.example.com/hook', ...template });
  assert.is(made.status, 201, JSON.stringify(made.body));
  if (signed) assert.is((await b.call('POST', `/v1/integrations/${made.body.id}/secret`)).status, 200);
  return made.body.id as string;
}

const run = () => signedGetQuery({ integrations: b.webhooks.list(), signed: (id) => b.webhooks.signing(id).enabled });

test('a signed GET with data in its query is a warning naming where the data goes; the fix is a POST', async () => {
  const withDefaults = await integration({ event: 'a', requestType: 'GET' }, true);
  const withQuery = await integration({ event: 'b', requestType: 'GET', noDefaults: true, query: { t: '{{{temp}}}', unit: 'C' } }, true);
  const withUrl = await integration({ event: 'c', requestType: 'GET', noDefaults: true, url: 'https://target.example.com/hook?v={{{PARTICLE_EVENT_VALUE}}}' }, true);
  const found = new Map(run().map((f) => [f.integrationId, f]));
  assert.equal(found.get(withDefaults)?.evidence.unsignedQuery, ['the default fields (event, data, coreid, published_at)']);
  assert.equal(found.get(withQuery)?.evidence.unsignedQuery, ['query']);
  assert.equal(found.get(withUrl)?.evidence.unsignedQuery, ['the URL\'s query']);
  for (const f of found.values()) {
    assert.equal([f.check, f.severity], ['SIGNED_GET_QUERY', 'warning']);
    assert.match(f.message, 'covers only the body');
    assert.match(f.next, `hookwire integrations update ${f.integrationId} `);
    assert.match(f.next, 'POST');
  }
  assert.match(found.get(withQuery)!.next, 'move the templated query parameters into form');
});

test('no finding for an unsigned GET, a signed POST, or a signed GET whose query holds no event data', async () => {
  const unsigned = await integration({ event: 'd', requestType: 'GET' }, false);
  const post = await integration({ event: 'e', requestType: 'POST', query: { t: '{{{temp}}}' } }, true);
  const fixed = await integration({ event: 'f', requestType: 'GET', noDefaults: true, query: { unit: 'C' } }, true);
  const ids = new Set(run().map((f) => f.integrationId));
  for (const id of [unsigned, post, fixed]) assert.not.ok(ids.has(id), id);
  assert.equal(unsignedQueryParts(b.webhooks.get(fixed)), []);
});

test('the bridge\'s doctor runs the check: GET /v1/doctor reports a signed GET with data in its query', async () => {
  const id = await integration({ event: 'through-doctor', requestType: 'GET' }, true);
  const report = (await b.call('GET', `/v1/doctor?integration=${id}&probe=false`)).body;
  const finding = report.findings.find((f: { check: string }) => f.check === 'SIGNED_GET_QUERY');
  assert.ok(finding, JSON.stringify(report.findings.map((f: { check: string }) => f.check)));
  assert.match(finding.next, `hookwire integrations update ${id} --request-type POST`);
});

test.run();
