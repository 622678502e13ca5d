/** Formatting helpers for benchmark reports: fixed-width label/value lines and human units. */

/** "1,234,567" */
export function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Milliseconds as "812 ms" or "12.34 s". */
export function duration(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** A rate per second with three significant digits at least: "1,234/s", "56.7/s". */
export function rate(count: number, ms: number, unit = ''): string {
  const perSecond = ms > 0 ? (count * 1000) / ms : Infinity;
  const text = perSecond >= 1000 ? int(perSecond) : perSecond.toFixed(perSecond >= 100 ? 0 : 1);
  return `${text} ${unit}/s`.replace(' /s', '/s');
}

export function mib(n: number): string {
  return `${n.toFixed(0)} MiB`;
}

export function percent(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : 'n/a';
}

/** Prints aligned "label  value" lines under an optional heading. */
export function printSection(title: string | undefined, rows: Array<[string, string]>, indent = 2): void {
  if (title !== undefined) console.log(title);
  const width = Math.max(0, ...rows.map(([label]) => label.length));
  for (const [label, value] of rows) console.log(`${' '.repeat(indent)}${label.padEnd(width)}  ${value}`);
}
