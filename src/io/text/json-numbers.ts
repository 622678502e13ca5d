/**
 * JSON.parse reads every number as a double, so an integer id above 2^53 (9007199254740993) comes back
 * rounded, and two distinct ids can become one. Node 20's JSON.parse reviver gets no source text, so
 * the digits are recovered by scanning the raw line: only for the top-level keys whose parsed value a
 * double cannot hold exactly, which keeps the common case at one JSON.parse per line.
 */

/** True for a parsed number that may not be what the source said: an integer beyond ±(2^53 - 1), or ±Infinity. */
export function isLossyNumber(value: unknown): value is number {
  return typeof value === 'number' && (Number.isInteger(value) ? !Number.isSafeInteger(value) : !Number.isFinite(value));
}

/**
 * The source text of the number values of `keys` in a line that JSON.parse has accepted as an object.
 * A key given twice takes its last value, as JSON.parse does.
 */
export function topLevelNumberTexts(line: string, keys: ReadonlySet<string>): Record<string, string> {
  return topLevelTexts(line, keys, (first) => first === '-' || (first >= '0' && first <= '9'));
}

/**
 * The source text of the values of `keys`, whatever their kind, in a line that JSON.parse has
 * accepted as an object: kept numbers and nested values are written from it, digit for digit.
 */
export function topLevelValueTexts(line: string, keys: ReadonlySet<string>): Record<string, string> {
  return topLevelTexts(line, keys, () => true);
}

function topLevelTexts(line: string, keys: ReadonlySet<string>, wanted: (first: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {};
  let i = skipSpace(line, line.indexOf('{') + 1);
  while (i < line.length && line[i] !== '}') {
    const keyEnd = skipString(line, i);
    const key = JSON.parse(line.slice(i, keyEnd)) as string;
    const valueStart = skipSpace(line, skipSpace(line, keyEnd) + 1); // past ':'
    const valueEnd = skipValue(line, valueStart);
    if (keys.has(key) && wanted(line[valueStart]!)) out[key] = line.slice(valueStart, valueEnd);
    i = skipSpace(line, valueEnd);
    if (line[i] === ',') i = skipSpace(line, i + 1);
  }
  return out;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  return i;
}

/** `i` is at an opening '"'; returns the index after the closing one. */
function skipString(text: string, i: number): number {
  for (let k = i + 1; k < text.length; k++) {
    if (text[k] === '\\') k++;
    else if (text[k] === '"') return k + 1;
  }
  return text.length;
}

/** Index after the value starting at `i` (string, object, array, number or literal). */
function skipValue(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return skipString(text, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let k = i; k < text.length; k++) {
      const d = text[k];
      if (d === '"') k = skipString(text, k) - 1;
      else if (d === '{' || d === '[') depth++;
      else if ((d === '}' || d === ']') && --depth === 0) return k + 1;
    }
    return text.length;
  }
  let k = i;
  while (k < text.length && !',}] \t\r\n'.includes(text[k]!)) k++;
  return k;
}
