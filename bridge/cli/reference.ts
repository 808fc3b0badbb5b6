// docs/cli.md, written from the commands' own declarations so the reference cannot drift from
// what `--help` prints. `npx tsx bridge/cli/reference.ts --write` rewrites it; the CLI's tests
// fail when it is out of date.

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import commands from './commands/index.ts';
import { subUsage } from './parse.ts';

export const REFERENCE_PATH = fileURLToPath(new URL('../../docs/cli.md', import.meta.url));

const INTRO = `# The hookwire command line

<!-- Written by \`npx tsx bridge/cli/reference.ts --write\` from the commands' declarations; edit those. -->

\`hookwire <command> --help\` (or \`-h\`) prints a command's usage, \`hookwire <command> <subcommand> --help\`
a subcommand's; \`hookwire help\` lists the commands. An unknown command or subcommand is named with the
nearest one, and an argument or option a command does not take is an error naming it (exit code 2).
Output piped into \`head\` ends quietly.

## Finding the bridge

- The API: \`HOOKWIRE_URL\`, else the bridge running on \`HOOKWIRE_DATA_DIR\` (its bridge.json), else
  http://127.0.0.1:8080. Its token: \`HOOKWIRE_TOKEN\`, else the admin-token file in \`HOOKWIRE_DATA_DIR\`
  (default ./data).
- The broker (for \`hookwire device\`): \`--mqtt URL\`, else \`HOOKWIRE_MQTT_URL\`, else the bridge's own, else
  mqtt://<host of the API>:1883 (mqtts://<host>:8883 for an https:// API).
- A certificate from a private CA: \`--ca FILE\` on any command, or \`HOOKWIRE_CA\`.

## Exit codes

| code | meaning |
|---|---|
| 0 | done (also when the reader of the output went away, as \`head\` does) |
| 1 | the bridge refused or could not be reached (\`error: message (CODE)\`, the code as in [codes.md](codes.md)); \`test\` and \`doctor\` also when they found a failure |
| 2 | a usage error: an unknown command, subcommand, field or option, a missing or stray argument |
`;

/** A summary as a sentence of Markdown: `<id>` is text, not an HTML tag. */
function prose(text: string): string {
  return (text.charAt(0).toUpperCase() + text.slice(1)).replace(/</g, '&lt;').replace(/\|/g, '\\|') + '.';
}

function section(c: (typeof commands)[number]): string[] {
  const out = [`## hookwire ${c.name}`, '', prose(c.summary), ''];
  if (!c.subcommands) return [...out, '```', `hookwire ${c.usage}`, '```', ''];
  if (c.withoutSubcommand) out.push('```', `hookwire ${c.usage}`, '```', '', prose(c.withoutSubcommand), '');
  for (const sub of Object.values(c.subcommands)) out.push('```', `hookwire ${subUsage(c, sub)}`, '```', '', prose(sub.summary), '');
  return out;
}

export function reference(): string {
  const index = ['## Commands', '', '| command | what it does |', '|---|---|', ...commands.map((c) => `| [\`${c.name}\`](#hookwire-${c.name}) | ${prose(c.summary).slice(0, -1)} |`), ''];
  return [INTRO, ...index, ...commands.flatMap(section)].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--write')) writeFileSync(REFERENCE_PATH, reference());
  else process.stdout.write(reference());
}
