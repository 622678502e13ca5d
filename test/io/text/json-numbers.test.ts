/**
 * The raw-line scan that recovers the digits of big JSON integers, on generated lines: random nesting,
 * strings full of quotes, braces and escapes, random whitespace and escaped keys. The expected digits
 * are the ones the generator wrote, not anything the scanner computed.
 */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {isLossyNumber, topLevelNumberTexts} from '../../../src/io/text/json-numbers.js';
import {mulberry32} from '../../helpers/prng.js';

describe('topLevelNumberTexts', () => {
  it('finds the source digits of the asked keys in generated lines', () => {
    const random = mulberry32(99);
    const int = (n: number): number => Math.floor(random() * n);
    const space = (): string => [' ', '', '\t', '  ', '\r\n'][int(5)]!;
    const tricky = ['a"b', '{"id": 1}', '\\', '},', '[', 'x\u00e9\u4f60', '\n'];
    const junk = (depth: number): string => {
      const r = int(depth > 2 ? 4 : 6);
      if (r === 0) return JSON.stringify(tricky[int(tricky.length)]);
      if (r === 1) return String(int(1000) - 500) + (random() < 0.3 ? '.5e-3' : '');
      if (r === 2) return ['true', 'false', 'null'][int(3)]!;
      if (r === 3) return JSON.stringify(String(int(10)));
      if (r === 4) return `[${space()}${Array.from({length: int(3)}, () => junk(depth + 1)).join(`,${space()}`)}${space()}]`;
      return `{${space()}${Array.from({length: int(3)}, () => `"id"${space()}:${space()}${junk(depth + 1)}`).join(',')}}`;
    };
    for (let trial = 0; trial < 500; trial++) {
      const digits = `${random() < 0.3 ? '-' : ''}${1 + int(9)}${Array.from({length: 16 + int(10)}, () => int(10)).join('')}`;
      const parts = Array.from({length: int(4)}, (_, i) => `"k${i}"${space()}:${space()}${junk(0)}`);
      const key = random() < 0.3 ? '"\\u0069d"' : '"id"';
      parts.splice(int(parts.length + 1), 0, `${key}${space()}:${space()}${digits}`);
      const line = `${space()}{${space()}${parts.join(`${space()},${space()}`)}${space()}}${space()}`;
      const parsed = JSON.parse(line) as Record<string, unknown>;
      assert.ok(isLossyNumber(parsed.id) || Number.isSafeInteger(parsed.id), line);
      assert.deepEqual(topLevelNumberTexts(line, new Set(['id'])), {id: digits}, line);
    }
  });

  it('tells which parsed numbers may differ from their source', () => {
    assert.deepEqual(
      [2 ** 53 - 1, 2 ** 53, -(2 ** 53), 1e300, Infinity, 0.1, 1.5, -0, '9007199254740993'].map(isLossyNumber),
      [false, true, true, true, true, false, false, false, false],
    );
  });
});
