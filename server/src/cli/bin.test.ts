import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = new URL('../../bin/switchyard.js', import.meta.url).pathname;
const policy = join(import.meta.dirname, '../../../policies/default');

describe('the switchyard executable', () => {
  it('runs the sources with Node’s own type stripping, without a warning', async () => {
    const { stdout, stderr } = await run(process.execPath, [bin, 'policy', 'check', policy]);
    expect(stdout).toMatch(/^✓ default@[0-9a-f]{12}: 1 file\(s\), 0 errors, 0 warnings/);
    expect(stderr).toBe('');
  });

  it('falls back to tsx where Node does not strip types', async () => {
    const { stdout } = await run(process.execPath, [
      '--no-experimental-strip-types',
      bin,
      'policy',
      'check',
      policy,
    ]);
    expect(stdout).toMatch(/^✓ default@[0-9a-f]{12}: 1 file\(s\), 0 errors, 0 warnings/);
  });
});
