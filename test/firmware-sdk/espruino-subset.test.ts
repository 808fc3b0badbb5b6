// What runs on Espruino stays in the subset it runs: the SDK core bundled to ES2015, the exact
// module file a board loads (dist/espruino/hookwire.js) and the example apps. Their syntax trees
// are walked (acorn) for every construct, built-in and regex feature missing on Espruino, and
// each rule is shown to fire on a snippet that breaks it.

import { readdir, readFile } from 'node:fs/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ESPRUINO_BUDGET_BYTES, buildEspruino } from '../../scripts/build-espruino.ts';
import { bundleCore, checkEspruinoSubset, regexProblem, type Rule } from '../../scripts/lib/espruino-subset.ts';

const problems = (code: string) => checkEspruinoSubset(code).map((v) => `${v.rule} at ${v.line}:${v.column}: ${v.text}`);

test('the SDK core, bundled to ES2015, uses nothing Espruino lacks', async () => {
  assert.equal(problems(await bundleCore()), []);
});

test('the module file a board loads uses nothing Espruino lacks, fits its budget, and is plain ASCII', async () => {
  const { code, bytes } = await buildEspruino(false);
  assert.equal(problems(code), []);
  assert.ok(bytes <= ESPRUINO_BUDGET_BYTES, `${bytes} bytes`);
  assert.ok(/^[\x20-\x7e\n]*$/.test(code), 'only printable ASCII (a console upload takes it as typed)');
  assert.ok(code.includes('exports.connect='), 'a module body that sets exports');
  assert.not.ok(/\bexport\b|\bimport\b/.test(code), 'no ES module syntax');
});

test('the example apps use nothing Espruino lacks', async () => {
  const dirs = (await readdir(new URL('../../examples/', import.meta.url))).filter((d) => d.startsWith('espruino-'));
  assert.equal(dirs.sort(), ['espruino-esp32', 'espruino-esp8266', 'espruino-pico-at']);
  for (const dir of dirs) {
    const app = await readFile(new URL(`../../examples/${dir}/app.js`, import.meta.url), 'utf8');
    assert.equal(problems(app), [], dir);
  }
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
  ['missing-global', 'queueMicrotask(f);'],
  ['missing-global', 'var p = new Proxy({}, {});'],
  ['missing-builtin', 'var a = Array.from(list);'],
  ['missing-builtin', 'var u = Uint8Array.from([1]);'],
  ['missing-builtin', 'var ok = Number.isInteger(n);'],
  ['missing-builtin', 'var t = Math.trunc(x);'],
  ['missing-builtin', 'Promise.race([a, b]);'],
  ['missing-builtin', 'p.finally(done);'],
  ['missing-builtin', 'var c = s.codePointAt(0);'],
  ['missing-builtin', 'process.exit(1);'],
  ['builtin-prototype', 'var args = Array.prototype.slice.call(arguments);'],
  ['builtin-prototype', 'var up = String.prototype.toUpperCase.call(s);'],
  ['regex', 'var r = /a(?=b)/;'],
  ['regex', 'var r = /a(?!b)/;'],
  ['regex', 'var r = /(?<=a)b/;'],
  ['regex', 'var r = /(?:ab)+/;'],
  ['regex', 'var r = /[0-9a-f]{24}/;'],
  ['regex', 'var r = /a{2,}/;'],
  ['regex', 'var r = /\\bword/;'],
  ['regex', 'var r = /a+?b/;'],
  ['regex', 'var r = /a*?/;'],
  ['regex', 'var r = /x/s;'],
  ['regex', 'var r = new RegExp("(?:a)");'],
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

test('the regex check reads escapes and classes: what Espruino runs passes', () => {
  for (const [pattern, flags] of [['^[\\w\\-\\/]+$', ''], ['^(hook-(sent|response|error)|spark)', 'i'], ['[{}?*]', 'g'], ['a\\{2\\}', ''], ['\\\\b', ''], ['x', 'y']]) {
    assert.is(regexProblem(pattern!, flags!), '', pattern);
  }
});

test('the checker accepts what Espruino runs', () => {
  const fine = `
    var args = [].slice.call([1, 2]);
    var hex = /^[\\da-f]+$/.test("ab") && "abc".lastIndexOf("c") > 0;
    var memory = process.memory().free;
    var net = require("net");
    var sign = Math.sign(-2);
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
