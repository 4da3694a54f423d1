#!/usr/bin/env node
// The switchyard CLI. Runs the TypeScript sources directly through tsx, so a fresh `npm ci` is all
// it needs.
import { register } from 'tsx/esm/api';

// node:sqlite (the embedded store) is stable enough for us but still flagged experimental in
// Node 22; its one-line warning on every start only confuses users.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  if (type === 'ExperimentalWarning' && String(warning).includes('SQLite')) return;
  return emitWarning.call(process, warning, ...rest);
};

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
