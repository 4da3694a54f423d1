import type { SourceLocation } from '../errors.ts';

/**
 * Where each value of the merged policy came from: a tree parallel to the value, so that an error
 * at a path (`routes[3].target`) can point at a file, line and column.
 */
export interface SourceNode {
  /** Location of the value (for a map entry: of its key, which is where editors put the cursor). */
  loc: SourceLocation;
  /** Location of the value itself, when it differs from `loc` (map entries). */
  valueLoc?: SourceLocation;
  children?: Map<string | number, SourceNode>;
}

/**
 * Finds the location of the value at `path`; when the path runs past what exists (a missing
 * field), returns the location of the deepest ancestor that does.
 */
export function locate(root: SourceNode, path: readonly PropertyKey[], preferValue = false): SourceLocation {
  let node = root;
  for (const seg of path) {
    const next = node.children?.get(typeof seg === 'symbol' ? String(seg) : seg);
    if (!next) return node.loc;
    node = next;
  }
  // Scalars point at the value; collections at their key, where editors put the cursor.
  return preferValue && node.valueLoc && !node.children ? node.valueLoc : node.loc;
}
