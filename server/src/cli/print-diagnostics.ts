import { type Diagnostic, formatDiagnostic, type PolicyFile } from '@switchyard/engine';

/**
 * Formats diagnostics for a terminal: the `file:line:col severity CODE message` line editors and
 * CI annotate from, then the source line with a caret under the column.
 */
export function renderDiagnostics(diagnostics: readonly Diagnostic[], files: readonly PolicyFile[]): string {
  const lines: string[] = [];
  for (const d of diagnostics) {
    lines.push(formatDiagnostic(d));
    const text = files.find((f) => f.path === d.file)?.text;
    const src = text?.split(/\r?\n/)[d.line - 1];
    if (src !== undefined) {
      const gutter = String(d.line).padStart(5);
      lines.push(
        `${gutter} | ${src}`,
        `${' '.repeat(gutter.length)} | ${' '.repeat(Math.max(0, d.col - 1))}^`,
      );
    }
  }
  return lines.join('\n');
}

/** `N errors, M warnings`, with singulars. */
export function countLine(errors: number, warnings: number): string {
  const n = (k: number, w: string) => `${k} ${w}${k === 1 ? '' : 's'}`;
  return `${n(errors, 'error')}, ${n(warnings, 'warning')}`;
}
