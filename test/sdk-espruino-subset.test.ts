// The SDK core stays in the Espruino subset: bundled to ES2015, its syntax tree is walked
// (acorn) for every construct DESIGN.md lists as missing on Espruino.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bundleCore, checkEspruinoSubset, type Rule } from '../scripts/lib/espruino-subset.ts';

test('the SDK core, bundled to ES2015, uses nothing Espruino lacks', async () => {
  const violations = checkEspruinoSubset(await bundleCore());
  assert.equal(violations.map((v) => `${v.rule} at ${v.line}:${v.column}: ${v.text}`), []);
});

test('the minified core leaves room in the 8 KB Espruino budget', async () => {
  const size = Buffer.byteLength(await bundleCore(true));
  assert.ok(size < 8 * 1024, `core is ${size} bytes minified`);
});

// Each snippet breaks exactly one rule; the checker must name it (so the check can fail).
const broken: [Rule, string][] = [
  ['destructuring', 'var { a } = obj;'],
  ['destructuring', 'var [x, y] = list;'],
  ['destructuring', 'function f({ a }) { return a; }'],
  ['default-parameter', 'function f(a = 1) { return a; }'],
  ['rest', 'function f(...args) { return args; }'],
  ['spread', 'var copy = [...list];'],
  ['spread', 'f(...list);'],
  ['async', 'async function f() {}'],
  ['async', 'var f = async () => 1;'],
  ['generator', 'function* g() {}'],
  ['missing-global', 'var m = new Map();'],
  ['missing-global', 'var s = new Set([1]);'],
  ['missing-global', 'var k = Symbol("k");'],
  ['missing-global', 'var b = Buffer.from("x");'],
  ['optional-chaining', 'var v = obj?.a;'],
  ['nullish-coalescing', 'var v = a ?? b;'],
  ['computed-key', 'var o = { [key]: 1 };'],
  ['class-field', 'class A { x = 1; }'],
  ['use-before-declaration', 'f(); function f() {}'],
  ['use-before-declaration', 'var y = later + 1; var later = 2;'],
  ['loop-let', 'for (let i = 0; i < 3; i++) {}'],
  ['loop-let', 'for (const k in obj) {}'],
  ['extends-error', 'class MyError extends Error {}'],
  ['module', 'import x from "y";'],
  ['module', 'export var z = 1;'],
];

for (const [rule, code] of broken) {
  test(`the checker flags ${rule}: ${code}`, () => {
    const rules = checkEspruinoSubset(code).map((v) => v.rule);
    assert.ok(rules.includes(rule), `expected ${rule}, got [${rules.join(', ')}]`);
  });
}

test('the checker accepts what Espruino runs', () => {
  const fine = `
    var obj = { Map: 1, Set: 2 };
    var v = obj.Map + obj.Set;
    function later() { return declaredAfter; } // runs after the declaration below
    var declaredAfter = 3;
    later();
    for (var i = 0; i < 3; i++) { v += i; }
    var f = (a, b) => a + b;
    class Point { constructor(x) { this.x = x; } }
    var s = \`\${v}\`;
    try { f(1, 2); } catch (e) { s = e.message; }
    export { f, Point, s };
  `;
  assert.equal(checkEspruinoSubset(fine), []);
});

test.run();
