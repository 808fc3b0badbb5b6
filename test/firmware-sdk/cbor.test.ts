// The SDK's own CBOR and UTF-8 (firmware-sdk/src/cbor.ts, utf8.ts, used on Espruino) against
// cbor-x and Node's own UTF-8 check: typed data is written byte for byte as cbor-x writes it
// (a device sends the same bytes on either platform), what cbor-x writes decodes to the same
// value, and malformed data is refused without looping.

import { isUtf8 as nodeIsUtf8 } from 'node:buffer';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Encoder, decode } from 'cbor-x';
import { cborDecode, cborEncode, type Strings } from '../../firmware-sdk/src/cbor.ts';
import { isUtf8 } from '../../firmware-sdk/src/utf8.ts';

// Byte strings as on Espruino, one character per byte; text as on a Unicode build.
const strings: Strings = {
  utf8: (text) => Buffer.from(text, 'utf8').toString('latin1'),
  text: (bytes) => Buffer.from(bytes, 'latin1').toString('utf8'),
  bin: (bytes) => Buffer.from(bytes).toString('latin1'),
};
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true });
const ours = (v: unknown) => Buffer.from(cborEncode(v, strings), 'latin1');
const read = (bytes: Uint8Array) => cborDecode(new Uint8Array(bytes), strings);

const VALUES: [string, unknown][] = [
  ['an event reading', { temp: 21.4, humidity: 41, room: 'kitchen' }],
  ['small and boundary integers', [0, 1, 23, 24, 255, 256, 65535, 65536, 4294967295]],
  ['negative integers', [-1, -24, -25, -256, -257, -65536, -65537, -4294967296]],
  ['numbers past 32 bits and fractions, as 64-bit floats', [4294967296, -4294967297, 2 ** 53, 0.1, -0.5, 1e21, 1e-40, 3.4e38]],
  ['non-finite numbers', [NaN, Infinity, -Infinity]],
  ['booleans, null, undefined', [true, false, null, undefined]],
  ['text, multi-byte and long', ['', 'é', '€', '😀', 'a'.repeat(23), 'a'.repeat(24), 'é'.repeat(200), 'x'.repeat(70_000)]],
  ['nested structures', { a: { b: { c: [1, { d: [] }, {}] } }, list: [[], [[1]]] }],
  ['bytes (tag 64)', { raw: new Uint8Array([0, 1, 255]), none: new Uint8Array(0) }],
  ['keys needing UTF-8', { 'clé': 1, '€': { '😀': true } }],
];

for (const [name, value] of VALUES) {
  test(`encode writes what cbor-x writes: ${name}`, () => {
    assert.is(ours(value).toString('hex'), Buffer.from(encoder.encode(value)).toString('hex'));
  });
  test(`decode reads what cbor-x writes: ${name}`, () => {
    assert.equal(read(encoder.encode(value)), decode(encoder.encode(value)));
  });
}

test('-0 is written as the integer 0, as cbor-x does', () => {
  assert.is(ours(-0).toString('hex'), Buffer.from(encoder.encode(-0)).toString('hex'));
});

test('what other encoders write: half and single floats, tags, integer keys, 64-bit counts', () => {
  const cases: [string, unknown][] = [
    ['f93c00', 1], ['f9c000', -2], ['f97c00', Infinity], ['f90001', 2 ** -24], ['f90400', 2 ** -14], ['f97bff', 65504],
    ['fa47c35000', 100000], ['fa3fc00000', 1.5],
    ['d9d9f7a16174f5', { t: true }], // self-describe tag, read through
    ['c11a514b67b0', 1363896240], // epoch time tag
    ['a20161610263786f78', { 1: 'a', 2: 'xox' }], // integer keys become text
    ['1b000000010000000a', 4294967306],
    ['5803010203', new Uint8Array([1, 2, 3])],
    ['f8ff', undefined], // an unassigned one-byte simple value
  ];
  for (const [hex, value] of cases) assert.equal(read(Buffer.from(hex, 'hex')), value, hex);
  assert.ok(Number.isNaN(read(Buffer.from('f97e00', 'hex')) as number));
});

test('malformed CBOR throws: indefinite lengths, data that ends early, a huge count with nothing behind it', () => {
  for (const hex of ['9f0102ff', '5f4101ff', '62e9', 'a16174', '1a0001', '9bffffffffffffffff', 'bbffffffffffffff00', '']) {
    assert.throws(() => read(Buffer.from(hex, 'hex')), /malformed CBOR/, hex);
  }
});

test('isUtf8 agrees with Node on text and on what is not text', () => {
  const cases = ['', 'abc', 'é', '€', '😀', 'a😀é€'.repeat(50)].map((s) => Buffer.from(s));
  cases.push(...['ff', 'c3', 'e282', 'f09f98', 'c328', 'e228a1', '80', 'bf', 'c0af', 'c1bf', 'f5808080', 'fe', 'c3a9ff'].map((h) => Buffer.from(h, 'hex')));
  for (const bytes of cases) assert.is(isUtf8(new Uint8Array(bytes)), nodeIsUtf8(bytes), bytes.toString('hex'));
});

test('isUtf8 checks structure only: overlong three-byte forms and encoded surrogates pass (no encoder writes them)', () => {
  for (const hex of ['e08080', 'eda080']) {
    assert.ok(isUtf8(new Uint8Array(Buffer.from(hex, 'hex'))), hex);
    assert.not.ok(nodeIsUtf8(Buffer.from(hex, 'hex')), hex);
  }
});

test.run();
