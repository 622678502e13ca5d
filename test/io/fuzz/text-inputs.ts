/**
 * Generated tabular text inputs for the fuzzers: rows of fields drawn from a pool of awkward pieces
 * (quotes, delimiters, line breaks, multi-byte and invalid bytes), in a format's own layout, then
 * sometimes damaged byte by byte, and delivered as a file, a .gz file or chunked stdin.
 */
import {gzipSync} from 'node:zlib';
import {join} from 'node:path';
import {writeFile} from 'node:fs/promises';
import {fakeStdin} from '../../helpers/tmp.js';
import {mutate, type Rng} from './harness.js';

/** Field pieces: plain words, the characters each format treats specially, and non-ASCII text. */
const PIECES = ['a', 'cat', 'the dog', '42', '-1.5e3', ' ', '', '"', '""', ',', '\t', '\n', '\r\n', '\r', '{', '}', '[', ']', ':', '\\', 'é', '你好', '😀', '\u2028', '\ufeff', 'null', 'true'];
/** Bytes worth inserting by mutation: delimiters, quotes, line breaks, NUL, invalid UTF-8 leads and continuations. */
export const TEXT_SPECIALS = [0x22, 0x2c, 0x09, 0x0a, 0x0d, 0x00, 0x7b, 0x7d, 0x5c, 0xe9, 0xc3, 0xa9, 0xe4, 0xf0, 0x80, 0xff, 0xfe, 0xef, 0xbb, 0xbf];

export function field(rng: Rng): string {
  return Array.from({length: rng.int(4)}, () => rng.pick(PIECES)).join('');
}

const csvQuote = (value: string, delimiter: string): string =>
  /["\r\n]/.test(value) || value.includes(delimiter) ? `"${value.replace(/"/g, '""')}"` : value;

/** Mostly well-formed text in `format`, with some raw (unquoted/unescaped) awkward fields. */
export function generateText(rng: Rng, format: 'csv' | 'tsv' | 'jsonl' | 'txt'): string {
  const columns = 1 + rng.int(4);
  const rows = rng.int(12);
  const names = Array.from({length: columns}, (_, i) => (rng.chance(0.1) ? field(rng) : `c${i}`));
  const lines: string[] = [];
  const eol = (): string => (rng.chance(0.15) ? '\r\n' : '\n');
  if (format === 'csv' || format === 'tsv') {
    const delimiter = format === 'csv' ? ',' : '\t';
    const cell = (value: string): string => (rng.chance(0.8) ? csvQuote(value, delimiter) : value);
    lines.push(names.map(cell).join(delimiter));
    for (let r = 0; r < rows; r++) {
      const width = rng.chance(0.9) ? columns : 1 + rng.int(columns + 2);
      lines.push(Array.from({length: width}, () => cell(field(rng))).join(delimiter));
      if (rng.chance(0.1)) lines.push('');
    }
  } else if (format === 'jsonl') {
    for (let r = 0; r < rows + 1; r++) {
      const object: Record<string, unknown> = {};
      for (const name of names) {
        if (rng.chance(0.1)) continue;
        const kind = rng.int(6);
        object[name] = kind === 0 ? field(rng) : kind === 1 ? rng.int(1000) : kind === 2 ? [field(rng)] : kind === 3 ? {x: field(rng)} : kind === 4 ? null : `${field(rng)}`;
      }
      let line = JSON.stringify(object);
      // Integers beyond 2^53 and raw damage to the JSON text.
      if (rng.chance(0.2)) line = line.replace(/^\{/, `{"big": ${rng.chance(0.5) ? '-' : ''}9007199254740${993 + rng.int(1000)}${rng.chance(0.5) ? '' : '123'},`).replace(/,}$/, '}');
      if (rng.chance(0.1)) line = rng.pick(['[1,2]', '"text"', '42', 'null', '{', '{"a":1,}', line + ' x', '']);
      lines.push(line);
      if (rng.chance(0.1)) lines.push(rng.pick(['', '  ', '\t']));
    }
  } else {
    for (let r = 0; r < rows; r++) lines.push(field(rng).replace(/[\r\n]/g, ' '));
  }
  const text = lines.join(eol()) + (rng.chance(0.7) ? eol() : '');
  return (rng.chance(0.1) ? '\ufeff' : '') + text;
}

export interface Delivered {
  /** Path or '-' */
  input: string;
  stdin?: NodeJS.ReadableStream;
  /** The bytes the reader decodes (after gunzip), for bounds on line numbers; unknown for a damaged .gz. */
  bytes: Buffer | undefined;
  /** How the input was given and its bytes, to replay a failing case. */
  description: string;
}

const show = (bytes: Buffer): string => JSON.stringify(bytes.toString('latin1').slice(0, 600));

/** Damages the bytes sometimes, then hands them over as a file, a .gz file (whole or damaged) or stdin. */
export async function deliver(rng: Rng, text: string, dir: string, name: string): Promise<Delivered> {
  let bytes: Buffer = Buffer.from(text, 'utf8');
  if (rng.chance(0.5)) bytes = mutate(rng, bytes, TEXT_SPECIALS);
  if (rng.chance(0.03)) bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  // Mostly stdin: opening a file costs a 1 MiB read buffer, and the suite has a time budget.
  const how = rng.int(20);
  if (how < 5) {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return {input: path, bytes, description: `file ${path} bytes (latin1) ${show(bytes)}`};
  }
  if (how < 8) {
    const path = join(dir, `${name}.gz`);
    const gz = gzipSync(bytes);
    const intact = rng.chance(0.5);
    await writeFile(path, intact ? gz : mutate(rng, gz));
    return {input: path, bytes: intact ? bytes : undefined, description: `${intact ? '' : 'damaged '}gzip file ${path} of (latin1) ${show(bytes)}`};
  }
  const chunk = 1 + rng.int(64);
  return {input: '-', stdin: fakeStdin(bytes, chunk), bytes, description: `stdin in ${chunk}-byte chunks, bytes (latin1) ${show(bytes)}`};
}
