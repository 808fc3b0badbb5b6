// Checks that JavaScript stays inside what the Espruino interpreter runs (DESIGN.md, Device
// SDK), by walking acorn's syntax tree: no regex guessing. Used by the Espruino build
// (scripts/build-espruino.ts) on the module it writes, and by the tests on the core and on
// the example apps. What each rule guards was checked on Espruino 2v29's Linux build; the
// Espruino-like sandbox (simulator/espruino.ts) catches at run time what no syntax shows
// (`[].lastIndexOf` on an array, say).

import { parse, type Node } from 'acorn';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

export interface Violation {
  rule: string;
  line: number;
  column: number;
  /** The offending source text, shortened. */
  text: string;
}

/** The rules, with what Espruino does instead (shown to whoever breaks one). */
export const RULES = {
  destructuring: 'destructuring (Espruino silently binds nothing)',
  'default-parameter': 'default parameter values',
  rest: 'rest parameters or elements',
  spread: 'spread (...)',
  async: 'async functions or await',
  generator: 'generators or yield',
  'missing-global': 'Map, Set, WeakMap, WeakSet, Symbol, Proxy, Reflect, or a Node-only global (Buffer, TextEncoder, TextDecoder, setImmediate, queueMicrotask, structuredClone)',
  'missing-builtin': 'a built-in Espruino lacks (Array.from/of, Uint8Array.from, Number.isInteger, Math.trunc, Promise.race/allSettled/any, Object.freeze, process.exit, .finally, .codePointAt, .flat, ...)',
  'builtin-prototype': 'Array.prototype.x or String.prototype.x (read as undefined on Espruino; use [].x or "".x)',
  regex: 'a regular expression feature Espruino lacks: lookaround, (?: or named groups, {n} counts, \\b, lazy quantifiers, flags other than g i m y (it fails silently there)',
  'optional-chaining': 'optional chaining (?.)',
  'nullish-coalescing': 'nullish coalescing (??)',
  'computed-key': 'computed property keys ({[k]: v})',
  'class-field': 'class fields',
  'use-before-declaration': 'use before declaration (Espruino does not hoist)',
  'loop-let': 'let/const in a loop head (no per-iteration binding; use var)',
  'extends-error': 'class extends Error (build errors as plain Errors with a code)',
  module: 'import/export inside the core (the build adds the module wrapper)',
} as const;

export type Rule = keyof typeof RULES;

const MISSING_GLOBALS = new Set(['Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef', 'Symbol', 'Proxy', 'Reflect', 'BigInt', 'Buffer',
  'TextEncoder', 'TextDecoder', 'setImmediate', 'queueMicrotask', 'structuredClone']);

const TYPED_ARRAYS = ['Uint8Array', 'Int8Array', 'Uint8ClampedArray', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array'];

/** Static members Espruino 2v29 does not have, by object. */
const MISSING_STATICS: Record<string, string[]> = {
  Array: ['from', 'of'],
  Number: ['isInteger', 'isSafeInteger', 'isFinite', 'isNaN', 'EPSILON'],
  Math: ['trunc', 'hypot', 'log2', 'cbrt'],
  Promise: ['race', 'allSettled', 'any'],
  Object: ['freeze'],
  process: ['exit', 'nextTick', 'argv'],
  ...Object.fromEntries(TYPED_ARRAYS.map((t) => [t, ['from', 'of']])),
};

/** Methods no Espruino type has, whatever the receiver. */
const MISSING_METHODS = new Set(['finally', 'codePointAt', 'flat', 'flatMap', 'trimStart', 'trimEnd']);

/** Why a regular expression would fail silently on Espruino, or '' when it would work. */
export function regexProblem(pattern: string, flags: string): string {
  const bad = flags.replace(/[gimy]/g, '');
  if (bad) return `flag ${bad}`;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      if (!inClass && (pattern[i + 1] === 'b' || pattern[i + 1] === 'B')) return `\\${pattern[i + 1]}`;
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
    } else if (c === '(' && pattern[i + 1] === '?') {
      return pattern.slice(i, i + 3);
    } else if (c === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(i))) {
      return /^\{\d+(,\d*)?\}/.exec(pattern.slice(i))![0];
    } else if ((c === '*' || c === '+' || c === '?' || c === '}') && pattern[i + 1] === '?') {
      return `${c}? (lazy)`;
    }
  }
  return '';
}

type AnyNode = Node & Record<string, unknown>;

function isNode(v: unknown): v is AnyNode {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';
}

function children(node: AnyNode): AnyNode[] {
  const out: AnyNode[] = [];
  for (const key of Object.keys(node)) {
    if (key === 'loc' || key === 'range') continue;
    const v = node[key];
    if (Array.isArray(v)) for (const c of v) { if (isNode(c)) out.push(c); }
    else if (isNode(v)) out.push(v);
  }
  return out;
}

const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

/** Is this Identifier a reference to a variable (not a property name, label or key)? */
function isReference(node: AnyNode, parent: AnyNode | undefined): boolean {
  if (!parent) return true;
  switch (parent.type) {
    case 'MemberExpression': return parent.object === node || parent.computed === true;
    case 'Property': return parent.value === node || parent.computed === true;
    case 'MethodDefinition':
    case 'PropertyDefinition': return parent.computed === true && parent.key === node;
    case 'LabeledStatement':
    case 'BreakStatement':
    case 'ContinueStatement': return false;
    case 'VariableDeclarator': return parent.init === node;
    case 'FunctionDeclaration':
    case 'FunctionExpression':
    case 'ArrowFunctionExpression': return (parent.body as unknown) === node;
    case 'CatchClause': return false;
    case 'ExportSpecifier': return parent.local === node;
    case 'ImportSpecifier':
    case 'ImportDefaultSpecifier':
    case 'ImportNamespaceSpecifier': return false;
    default: return true;
  }
}

/** Names a declaration binds, with where. */
function declaredNames(node: AnyNode): { name: string; start: number }[] {
  if (node.type === 'FunctionDeclaration' && isNode(node.id)) return [{ name: node.id.name as string, start: node.start }];
  if (node.type === 'VariableDeclarator' && isNode(node.id) && node.id.type === 'Identifier') return [{ name: node.id.name as string, start: node.start }];
  if (node.type === 'ClassDeclaration' && isNode(node.id)) return [{ name: node.id.name as string, start: node.start }];
  return [];
}

/** Check `code` (a script or module); every violation found, in source order. */
export function checkEspruinoSubset(code: string): Violation[] {
  const ast = parse(code, { ecmaVersion: 'latest', sourceType: 'module', locations: true }) as unknown as AnyNode;
  const violations: Violation[] = [];
  const report = (rule: Rule, node: AnyNode) => {
    const loc = (node as unknown as { loc: { start: { line: number; column: number } } }).loc.start;
    violations.push({ rule, line: loc.line, column: loc.column + 1, text: code.slice(node.start, Math.min(node.end, node.start + 60)) });
  };

  // Syntax rules: one pass over every node.
  const visit = (node: AnyNode, parent: AnyNode | undefined) => {
    switch (node.type) {
      case 'ObjectPattern':
      case 'ArrayPattern': report('destructuring', node); break;
      case 'AssignmentPattern': report('default-parameter', node); break;
      case 'RestElement': report('rest', node); break;
      case 'SpreadElement': report('spread', node); break;
      case 'AwaitExpression': report('async', node); break;
      case 'YieldExpression': report('generator', node); break;
      case 'ChainExpression': report('optional-chaining', node); break;
      case 'LogicalExpression': if (node.operator === '??') report('nullish-coalescing', node); break;
      case 'PropertyDefinition': report('class-field', node); if (node.computed) report('computed-key', node); break;
      case 'Property':
      case 'MethodDefinition': if (node.computed) report('computed-key', node); break;
      case 'ImportDeclaration':
      case 'ImportExpression': report('module', node); break;
      case 'ExportNamedDeclaration':
      case 'ExportDefaultDeclaration':
      case 'ExportAllDeclaration':
        // A bundle's trailing `export { a, b }` list is the module boundary, not code.
        if (node.type !== 'ExportNamedDeclaration' || node.declaration || parent?.type !== 'Program') report('module', node);
        break;
      case 'ForStatement':
      case 'ForInStatement':
      case 'ForOfStatement': {
        const head = (node.type === 'ForStatement' ? node.init : node.left) as AnyNode | null;
        if (head?.type === 'VariableDeclaration' && head.kind !== 'var') report('loop-let', head);
        break;
      }
      case 'ClassDeclaration':
      case 'ClassExpression': {
        const sup = node.superClass as AnyNode | null;
        if (sup?.type === 'Identifier' && /Error$/.test(sup.name as string)) report('extends-error', node);
        break;
      }
      case 'Identifier':
        if (MISSING_GLOBALS.has(node.name as string) && isReference(node, parent)) report('missing-global', node);
        break;
      case 'MemberExpression': {
        const object = node.object as AnyNode;
        const property = node.computed ? undefined : (node.property as AnyNode).name as string;
        if (!property) break;
        if (object.type === 'Identifier' && MISSING_STATICS[object.name as string]?.includes(property)) report('missing-builtin', node);
        else if (MISSING_METHODS.has(property)) report('missing-builtin', node);
        else if (object.type === 'MemberExpression' && !object.computed && (object.property as AnyNode).name === 'prototype' &&
          (object.object as AnyNode).type === 'Identifier' && ['Array', 'String'].includes((object.object as AnyNode).name as string)) report('builtin-prototype', node);
        break;
      }
      case 'Literal': {
        const regex = node.regex as { pattern: string; flags: string } | undefined;
        if (regex && regexProblem(regex.pattern, regex.flags)) report('regex', node);
        break;
      }
      case 'NewExpression':
      case 'CallExpression': {
        // RegExp("...") and new RegExp("...", "flags") with literal text.
        const callee = node.callee as AnyNode;
        const [pattern, flags] = node.arguments as AnyNode[];
        if (callee.type === 'Identifier' && callee.name === 'RegExp' && pattern?.type === 'Literal' && typeof pattern.value === 'string' &&
          regexProblem(pattern.value, flags?.type === 'Literal' && typeof flags.value === 'string' ? flags.value : '')) report('regex', node);
        break;
      }
    }
    if (FUNCTION_TYPES.has(node.type)) {
      if (node.async) report('async', node);
      if (node.generator) report('generator', node);
    }
    for (const c of children(node)) visit(c, node);
  };
  visit(ast, undefined);

  // Hoisting: within one function (or the program), a name used before the statement that
  // declares it, outside any nested function (which runs later, once declared), fails on
  // Espruino.
  const checkScope = (scope: AnyNode) => {
    const declared = new Map<string, number>();
    const refs: { name: string; node: AnyNode }[] = [];
    const collect = (node: AnyNode, parent: AnyNode | undefined) => {
      for (const d of declaredNames(node)) if (!declared.has(d.name)) declared.set(d.name, d.start);
      if (node.type === 'Identifier' && isReference(node, parent)) refs.push({ name: node.name as string, node });
      for (const c of children(node)) {
        if (FUNCTION_TYPES.has(c.type)) {
          if (c.type === 'FunctionDeclaration') for (const d of declaredNames(c)) if (!declared.has(d.name)) declared.set(d.name, d.start);
          checkScope(c);
        } else {
          collect(c, node);
        }
      }
    };
    const body = scope.type === 'Program' ? scope : (scope.body as AnyNode);
    if (scope.type !== 'Program') for (const p of scope.params as AnyNode[]) collect(p, scope);
    collect(body, scope);
    for (const r of refs) {
      const at = declared.get(r.name);
      if (at !== undefined && r.node.start < at) report('use-before-declaration', r.node);
    }
  };
  checkScope(ast);

  return violations.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** The SDK core (everything that must run on Espruino), bundled to ES2015 as an ES module. */
export async function bundleCore(minify = false): Promise<string> {
  const result = await build({
    stdin: {
      contents: "export * from './device.ts';\nexport * from './rules.ts';\n",
      resolveDir: fileURLToPath(new URL('../../firmware-sdk/src/', import.meta.url)),
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    target: 'es2015',
    platform: 'neutral',
    minify,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}
