/**
 * The one table renderer for human output: aligned plain text for terminals and GitHub Markdown for
 * PR comments. Reports (eval-sts), listings (models) and summaries all draw their tables here, so
 * column alignment and escaping are decided once.
 */

export interface TableColumn {
  title: string;
  /** 'right' for numbers, so decimal points line up. Default 'left'. */
  align?: 'left' | 'right';
}

export interface TextTableOptions {
  /** A dashed rule under the header. */
  headerRule?: boolean;
  /** Draw a rule before these body rows (0-based), e.g. to set a total row apart. */
  rulesBefore?: readonly number[];
}

/** Lines of an aligned table: columns two spaces apart, no trailing spaces. */
export function textTable(columns: readonly TableColumn[], rows: readonly (readonly string[])[], options: TextTableOptions = {}): string[] {
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (columns[i]!.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const rulesBefore = new Set(options.rulesBefore ?? []);
  const out = [line(columns.map((c) => c.title))];
  if (options.headerRule) out.push(rule);
  rows.forEach((row, i) => {
    if (rulesBefore.has(i)) out.push(rule);
    out.push(line(row));
  });
  return out;
}

/** Escapes text for a Markdown table cell. */
export function markdownCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** Lines of a GitHub Markdown table; cells are escaped here. */
export function markdownTable(columns: readonly TableColumn[], rows: readonly (readonly string[])[]): string[] {
  const cells = (values: readonly string[]) => `| ${values.map(markdownCell).join(' | ')} |`;
  return [
    cells(columns.map((c) => c.title)),
    `|${columns.map((c) => (c.align === 'right' ? ' ---: ' : ' --- ')).join('|')}|`,
    ...rows.map(cells),
  ];
}

/** "key   value" lines with keys padded to one width; a list value continues on indented lines. */
export function keyValueLines(entries: Record<string, unknown>, keyWidth = 16): string[] {
  const indent = ' '.repeat(keyWidth + 1);
  return Object.entries(entries).map(([key, value]) => `${key.padEnd(keyWidth)} ${Array.isArray(value) ? value.join(`\n${indent}`) : String(value)}`);
}
