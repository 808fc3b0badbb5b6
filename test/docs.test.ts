// The README and docs/ link to each other and to the code: every relative link must lead to a
// file that exists, and every #anchor to a heading (or an id) in that file, so moving a section
// cannot leave a reader at a dead end.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { root } from './helpers/spawn.ts';

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');

function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  const out = new Set<string>();
  for (const [, h] of text.matchAll(/^#{1,6} (.+)$/gm)) out.add(slug(h!.replace(/`/g, '')));
  for (const [, id] of text.matchAll(/<a id="([^"]+)"/g)) out.add(id!);
  return out;
}

const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f)),
  ...readdirSync(join(root, 'examples')).map((d) => join('examples', d, 'README.md')).filter((f) => existsSync(join(root, f)))];

test('every relative link in the README, docs/ and the examples leads somewhere that exists', () => {
  const dead: string[] = [];
  for (const page of pages) {
    const text = readFileSync(join(root, page), 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)|href="([^"]+)"/g)) {
      const target = m[1] ?? m[2];
      if (!target || /^[a-z]+:/i.test(target)) continue;
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const file = path ? join(root, dirname(page), path) : join(root, page);
      if (!existsSync(file)) {
        dead.push(`${page}: ${target} (no such file)`);
        continue;
      }
      if (anchor && statSync(file).isFile() && file.endsWith('.md') && !anchors(file).has(anchor)) dead.push(`${page}: ${target} (no such heading in ${relative(root, file)})`);
    }
  }
  assert.equal(dead, []);
});

test.run();
