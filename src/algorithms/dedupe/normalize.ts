import {createHash} from 'node:crypto';

/**
 * The key of dedupe's exact stage: two texts are exact duplicates when their keys are equal.
 * Unicode NFC (composed and decomposed accents are one text), case folded, every run of white space
 * (Unicode's, including no-break and ideographic spaces, tabs and newlines) one space, trimmed.
 *
 * Case folding is upper-then-lower case mapping: JavaScript has no String.prototype.foldCase, and
 * lower case alone misses the foldings that change length or meet at the upper case ('ß' and 'SS'
 * and 'ss', final 'ς' and 'σ', the 'ﬁ' ligature and 'fi'). NFC runs again after it, because case
 * mapping can leave a decomposed sequence.
 */
export function normalizeText(text: string): string {
  return text.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC').replace(/\s+/gu, ' ').trim();
}

/**
 * The exact-stage keys of a column of texts: a row with no text (a vector file's absent or null cell)
 * has no key, so it is nobody's exact duplicate and is compared by its vector; a real empty string
 * has the key ''. No text column at all: no row has a key.
 */
export function exactKeys(texts: readonly (string | undefined)[] | undefined, rows: number): (string | undefined)[] {
  if (texts === undefined) return new Array<string | undefined>(rows).fill(undefined);
  return texts.map((t) => (typeof t === 'string' ? normalizeText(t) : undefined));
}

/**
 * exactKeys' key of one text as a 128-bit digest (the first half of the sha256 of the key), for
 * callers that cannot hold every text (the staged merge): equal keys give equal digests, and distinct
 * keys colliding is out of practical reach. The empty key stays '' (an empty text is nobody's
 * semantic duplicate, as with exactKeys); no text has no key.
 */
export function exactKeyDigest(text: string | undefined): string | undefined {
  if (typeof text !== 'string') return undefined;
  const key = normalizeText(text);
  return key === '' ? '' : createHash('sha256').update(key, 'utf8').digest().toString('base64', 0, 16);
}

/** Length in Unicode code points (what --keep longest/shortest compares), not UTF-16 units. */
export function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}
