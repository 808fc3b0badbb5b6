// npm run docs:codes: docs/codes.md, every fixed failure code the bridge produces, written
// from bridge/codes.ts (the one place they are defined). test/bridge/codes.test.ts fails when
// the page and the table differ.

import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CODES, type FixedCode } from '../bridge/codes.ts';

export const CODES_DOC_PATH = fileURLToPath(new URL('../docs/codes.md', import.meta.url));

const cell = (s: string | number | undefined) => (s === undefined ? '' : String(s).replaceAll('|', '\\|').replaceAll('<', '&lt;'));

export function codesDoc(): string {
  const rows = (Object.keys(CODES) as FixedCode[]).map((code) => {
    const c = CODES[code];
    return `| \`${code}\` | ${cell(c.title)} | ${cell(c.meaning)} | ${cell(c.check)} | ${cell(c.http)} | ${cell(c.mqtt)} |`;
  });
  return `# Failure codes

<!-- Written by npm run docs:codes from bridge/codes.ts; edit the table there. -->

Every failure the bridge reports carries a stable code: API errors (\`{"error": {"code": …}}\`),
refusals told to devices on \`<deviceID>/hookwire/error\`, delivery logs and \`lastError\`, the
doctor, the dashboard and \`hookwire logs\`. Match on the code, never on the text.

Besides the codes below, a delivery attempt can end with two open families:

- an HTTP status the target answered with, as text (\`"404"\`, \`"503"\`): \`hookwire logs\` and
  the dashboard explain the common ones (400, 401, 403, 404, 405, 408, 410, 413, 429, 521,
  523, any 5xx);
- a TLS error by Node's or OpenSSL's name (\`CERT_HAS_EXPIRED\`, \`DEPTH_ZERO_SELF_SIGNED_CERT\`,
  \`ERR_TLS_CERT_ALTNAME_INVALID\`, …): the target's certificate could not be verified.

| code | title | what it means | what to check | HTTP | MQTT |
|---|---|---|---|---:|---|
${rows.join('\n')}
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(CODES_DOC_PATH, codesDoc());
  console.log(`wrote ${CODES_DOC_PATH} (${Object.keys(CODES).length} codes)`);
}
