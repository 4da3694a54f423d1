import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { Diagnostic, SourceLocation } from '../errors.ts';
import type { PolicyFile } from '../model/compiled-policy.ts';
import type { SourceNode } from './source-map.ts';

/** The raw policy merged from all files of a folder, with a source map for diagnostics. */
export interface ParsedPolicy {
  value: Record<string, unknown>;
  source: SourceNode;
  errors: Diagnostic[];
}

/** Top-level sections that are maps of named entries: files may each contribute entries. */
const mapSections = new Set(['providers', 'models', 'tenants']);
/** Top-level sections that are lists: files contribute items, in file-name order. */
const listSections = new Set(['routes', 'experiments', 'cache']);

function locAt(file: string, lc: LineCounter, offset: number): SourceLocation {
  const { line, col } = lc.linePos(offset);
  return { file, line, col };
}

/** Converts a YAML node to a plain value, recording where every value came from. */
function convert(
  node: Node | null,
  doc: Document,
  file: string,
  lc: LineCounter,
  keyOffset?: number,
): { value: unknown; src: SourceNode } {
  const start = node?.range?.[0] ?? keyOffset ?? 0;
  const valueLoc = locAt(file, lc, start);
  const loc = keyOffset === undefined ? valueLoc : locAt(file, lc, keyOffset);
  if (!node) return { value: null, src: { loc, valueLoc } };
  if (isAlias(node)) return convert(node.resolve(doc) ?? null, doc, file, lc, keyOffset);
  if (isMap(node)) {
    const value: Record<string, unknown> = {};
    const children = new Map<string | number, SourceNode>();
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const child = convert(pair.value as Node | null, doc, file, lc, keyNode?.range?.[0] ?? start);
      value[key] = child.value;
      children.set(key, child.src);
    }
    return { value, src: { loc, valueLoc, children } };
  }
  if (isSeq(node)) {
    const children = new Map<string | number, SourceNode>();
    const value = node.items.map((item, i) => {
      const child = convert(item as Node, doc, file, lc);
      children.set(i, child.src);
      return child.value;
    });
    return { value, src: { loc, valueLoc, children } };
  }
  return { value: isScalar(node) ? node.toJSON() : null, src: { loc, valueLoc } };
}

/** One YAML file parsed to a plain value with a source map; syntax errors reported with locations. */
export function parseYamlFile(file: PolicyFile): {
  value: unknown;
  source: SourceNode;
  errors: Diagnostic[];
} {
  const lc = new LineCounter();
  const doc = parseDocument(file.text, {
    lineCounter: lc,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
  });
  const errors = doc.errors.map((e) => {
    const firstLine = e.message.split('\n')[0] ?? e.message;
    return diag(
      e.code === 'DUPLICATE_KEY' ? 'SY_POLICY_DUPLICATE_KEY' : 'SY_POLICY_YAML_SYNTAX',
      locAt(file.path, lc, e.pos[0]),
      `yaml: ${firstLine.charAt(0).toLowerCase()}${firstLine.slice(1)}`,
    );
  });
  const { value, src } = convert(doc.contents as Node | null, doc, file.path, lc);
  return { value, source: src, errors };
}

function diag(code: Diagnostic['code'], loc: SourceLocation, message: string): Diagnostic {
  return { code, severity: 'error', message, ...loc };
}

/**
 * Parses the YAML files of a policy and merges them: `providers`, `models` and `tenants` entries may
 * come from different files; `routes`, `experiments` and `cache` items are concatenated in file-name
 * order; any other section may appear in one file only. Reports every syntax error and duplicate.
 */
export function parsePolicyFiles(files: readonly PolicyFile[]): ParsedPolicy {
  const errors: Diagnostic[] = [];
  const value: Record<string, unknown> = {};
  const rootLoc: SourceLocation = { file: files[0]?.path ?? '<policy>', line: 1, col: 1 };
  const children = new Map<string | number, SourceNode>();
  const source: SourceNode = { loc: rootLoc, children };
  if (files.length === 0) {
    errors.push(
      diag(
        'SY_POLICY_NO_FILES',
        rootLoc,
        'no policy files found; a policy folder needs at least one `*.yaml` file',
      ),
    );
    return { value, source, errors };
  }
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const file of sorted) {
    const lc = new LineCounter();
    const doc = parseDocument(file.text, {
      lineCounter: lc,
      prettyErrors: false,
      uniqueKeys: true,
      merge: true,
    });
    let fileOk = true;
    for (const e of doc.errors) {
      const loc = locAt(file.path, lc, e.pos[0]);
      const firstLine = e.message.split('\n')[0] ?? e.message;
      if (e.code === 'DUPLICATE_KEY')
        errors.push(diag('SY_POLICY_DUPLICATE_KEY', loc, `duplicate key: ${firstLine.toLowerCase()}`));
      else {
        errors.push(
          diag(
            'SY_POLICY_YAML_SYNTAX',
            loc,
            `yaml syntax error: ${firstLine.charAt(0).toLowerCase()}${firstLine.slice(1)}`,
          ),
        );
        fileOk = false;
      }
    }
    if (!fileOk) continue;
    if (doc.contents === null) continue; // an empty file contributes nothing
    if (!isMap(doc.contents)) {
      errors.push(
        diag(
          'SY_POLICY_INVALID_VALUE',
          locAt(file.path, lc, doc.contents.range?.[0] ?? 0),
          'a policy file must be a mapping of sections (`providers:`, `models:`, …)',
        ),
      );
      continue;
    }
    const { value: fileValue, src } = convert(doc.contents, doc, file.path, lc);
    for (const [section, sectionValue] of Object.entries(fileValue as Record<string, unknown>)) {
      const sectionSrc = src.children!.get(section)!;
      const existing = children.get(section);
      if (!existing) {
        value[section] = sectionValue;
        children.set(section, sectionSrc);
        continue;
      }
      if (mapSections.has(section) && isPlainObject(value[section]) && isPlainObject(sectionValue)) {
        const target = value[section] as Record<string, unknown>;
        existing.children ??= new Map();
        for (const [name, entry] of Object.entries(sectionValue)) {
          const entrySrc = sectionSrc.children!.get(name)!;
          if (name in target) {
            const first = existing.children.get(name)!.loc;
            errors.push(
              diag(
                'SY_POLICY_DUPLICATE_KEY',
                entrySrc.loc,
                `\`${section}.${name}\` is already defined at ${first.file}:${first.line}:${first.col}`,
              ),
            );
            continue;
          }
          target[name] = entry;
          existing.children.set(name, entrySrc);
        }
      } else if (listSections.has(section) && Array.isArray(value[section]) && Array.isArray(sectionValue)) {
        const target = value[section] as unknown[];
        existing.children ??= new Map();
        sectionValue.forEach((item, i) => {
          existing.children!.set(target.length, sectionSrc.children!.get(i)!);
          target.push(item);
        });
      } else {
        const first = existing.loc;
        errors.push(
          diag(
            'SY_POLICY_DUPLICATE_KEY',
            sectionSrc.loc,
            `section \`${section}\` is already defined at ${first.file}:${first.line}:${first.col}`,
          ),
        );
      }
    }
  }
  return { value, source, errors };
}

/** Whether a value is a plain object (not an array, not null). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
