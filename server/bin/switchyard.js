#!/usr/bin/env node
// The switchyard CLI. It runs the TypeScript sources directly, so a fresh `npm ci` is all it needs:
// Node 22.18 and later strip the types themselves (the sources use erasable syntax only, which
// `erasableSyntaxOnly` in tsconfig.json keeps true); older Node 22 releases go through tsx.

// node:sqlite (the embedded store) is stable enough for us but still flagged experimental in
// Node 22, as type stripping is in some releases; their one-line warnings on every start only
// confuse users.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  if (type === 'ExperimentalWarning' && /SQLite|Type Stripping/i.test(String(warning))) return;
  return emitWarning.call(process, warning, ...rest);
};

// Node does not strip types under node_modules (Switchyard installed as a dependency): tsx does.
if (!process.features.typescript || import.meta.url.includes('/node_modules/')) {
  const { register } = await import('tsx/esm/api');
  register();
}
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
