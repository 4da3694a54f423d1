import { readFileSync } from 'node:fs';
import { policyErrorCatalog } from '@switchyard/engine';
import { describe, expect, it } from 'vitest';

const errorsPage = readFileSync(new URL('./errors.md', import.meta.url), 'utf8');

/** The codes in the first column of the table under a `## <heading>` of docs/errors.md. */
function codesInSection(markdown: string, heading: string): string[] {
  const start = markdown.split('\n').findIndex((line) => line.startsWith(`## ${heading}`));
  if (start === -1) throw new Error(`docs/errors.md has no \`## ${heading}\` section`);
  const codes: string[] = [];
  for (const line of markdown.split('\n').slice(start + 1)) {
    if (line.startsWith('## ')) break;
    const code = /^\|\s*`([A-Z0-9_]+)`\s*\|/.exec(line)?.[1];
    if (code) codes.push(code);
  }
  return codes;
}

describe('docs/errors.md', () => {
  const documented = codesInSection(errorsPage, 'Policy diagnostics');

  it('documents every policy diagnostic code of the engine catalog', () => {
    const missing = Object.keys(policyErrorCatalog).filter((code) => !documented.includes(code));
    expect(missing, 'add a row `| `CODE` | meaning |` to "## Policy diagnostics" in docs/errors.md').toEqual(
      [],
    );
  });

  it('documents no policy code the engine does not have, and none twice', () => {
    const unknown = documented.filter((code) => !(code in policyErrorCatalog));
    expect(
      unknown,
      'remove these rows from "## Policy diagnostics" in docs/errors.md, or add the codes to engine/src/errors.ts',
    ).toEqual([]);
    expect(documented.length).toBe(new Set(documented).size);
  });
});
