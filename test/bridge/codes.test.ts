// The codes table (bridge/codes.ts): every fixed code has its guidance, codes an API can fail
// with have an HTTP status the errors use, the open families (HTTP statuses, TLS errors) get
// their family's guidance, unknown text is not a code, and docs/codes.md is the table.
// Some checks are the type-check's: the lines marked @ts-expect-error must not compile.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { CODES, guidance, guidanceOf, isCode, type Code, type CodeInfo, type FixedCode } from '../../bridge/codes.ts';
import { HookwireError, InputError, NotFoundError } from '../../bridge/errors.ts';
import { CODES_DOC_PATH, codesDoc } from '../../scripts/codes-doc.ts';

const fixed = Object.keys(CODES) as FixedCode[];

test('every fixed code has a title, a meaning and something to check, in sentences', () => {
  assert.ok(fixed.length >= 40, `${fixed.length} codes`);
  for (const code of fixed) {
    const c = CODES[code];
    assert.match(code, /^[A-Z][A-Z0-9_]+$/, code);
    assert.ok(c.title.length > 2, `${code} title`);
    assert.match(c.meaning, /^[A-Z].*\.$/s, `${code} meaning`);
    assert.match(c.check, /\S/, `${code} check`);
  }
});

test('a code without guidance, or an unknown code, does not compile', () => {
  // @ts-expect-error: `check` is missing.
  const incomplete: CodeInfo = { title: 'x', meaning: 'y' };
  // @ts-expect-error: not a code the bridge produces.
  const unknown: Code = 'NO_SUCH_CODE';
  // @ts-expect-error: an error class takes only its family's codes.
  const wrongFamily = new NotFoundError('BAD_REQUEST', 'x');
  assert.ok(incomplete && unknown && wrongFamily);
});

test('an error answers with its code\'s HTTP status; codes without one are 500', () => {
  for (const code of fixed) {
    const err = new HookwireError(code, 'x');
    assert.is(err.status, CODES[code].http ?? 500, code);
    if (CODES[code].http !== undefined) assert.ok(err.status >= 400 && err.status <= 599, code);
  }
  const e = new InputError('EVENT_TOO_LARGE', 'too big', { field: 'data' });
  assert.equal([e.code, e.status, e.field, e.name], ['EVENT_TOO_LARGE', 400, 'data', 'InputError']);
  assert.instance(e, HookwireError);
});

test('every code a device can be refused with says what the device is told over MQTT', () => {
  for (const code of ['EVENT_NAME_INVALID', 'EVENT_NAME_RESERVED', 'EVENT_PRIVATE_SPACE', 'EVENT_TOO_LARGE', 'EVENT_DATA_INVALID', 'AUTH_FAILED', 'CLIENT_ID_MISMATCH', 'SUBSCRIBE_FORBIDDEN', 'PACKET_TOO_LARGE', 'PROTOCOL_ERROR'] as const) {
    assert.ok(CODES[code].mqtt, code);
  }
});

test('the open families: an HTTP status by status then class, a TLS error by name', () => {
  assert.is(guidance('404').title, 'Not Found');
  assert.is(guidance('502').title, 'Server Error');
  assert.is(guidance('418').title, 'HTTP 418');
  assert.is(guidance('CERT_HAS_EXPIRED').title, 'TLS error');
  assert.is(guidance('ERR_TLS_CERT_ALTNAME_INVALID').title, 'TLS error');
  assert.is(guidance('ECONNREFUSED'), CODES.ECONNREFUSED);
});

test('text read back (a stored log) is a code only when it is one', () => {
  for (const text of ['ECONNREFUSED', '503', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SLEEPING']) assert.ok(isCode(text), text);
  for (const text of ['', 'econnrefused', '99', '600', 'toString', 'constructor', 'SOMETHING_ELSE']) assert.not.ok(isCode(text), text);
  assert.is(guidanceOf('toString').title, 'toString', 'no prototype lookups');
  assert.is(guidanceOf('503').title, 'Server Error');
});

test('docs/codes.md is the table (npm run docs:codes writes it)', async () => {
  const page = await readFile(CODES_DOC_PATH, 'utf8');
  assert.ok(page === codesDoc(), 'docs/codes.md is out of date: run npm run docs:codes');
  for (const code of fixed) assert.ok(page.includes(`| \`${code}\` |`), code);
});

test.run();
