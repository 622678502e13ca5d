/**
 * Kept column values: JSONL values keep their JSON types (the source text decides integer vs decimal,
 * and big or nested values are taken digit for digit from the line); CSV cells stay strings unless
 * --infer-types, whose rules are spelled out case by case below.
 */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {JsonText} from '../../../src/io/rows/types.js';
import {inferCell, keptValues} from '../../../src/io/text/kept-values.js';
import {parseJsonLine} from '../../../src/io/text/line-rows.js';
import {openTexts} from '../../../src/io/text/read-texts.js';
import {collect, tempFile} from '../../helpers/tmp.js';

const jsonRow = (text: string) => parseJsonLine({line: 1, text}, 'in.jsonl');

describe('keptValues: JSONL', () => {
  it('keeps strings, booleans and null; integers as bigints, decimals as numbers, by their source text', () => {
    const row = jsonRow('{"s":"007","t":true,"f":false,"z":null,"i":42,"neg":-7,"one":1.0,"exp":1e3,"half":2.5,"zero":0}');
    assert.deepEqual(keptValues(row, ['s', 't', 'f', 'z', 'i', 'neg', 'one', 'exp', 'half', 'zero']), {
      s: '007',
      t: true,
      f: false,
      z: null,
      i: 42n,
      neg: -7n,
      one: 1, // "1.0" is a decimal: a number, not a bigint
      exp: 1000,
      half: 2.5,
      zero: 0n,
    });
  });

  it('keeps integers beyond 2^53 digit for digit, and beyond Int64 as their text', () => {
    const row = jsonRow('{"a": 9007199254740993, "b": -9223372036854775808, "c": 9223372036854775808, "d": 1e400}');
    assert.deepEqual(keptValues(row, ['a', 'b', 'c', 'd']), {
      a: 9007199254740993n,
      b: -9223372036854775808n,
      c: new JsonText('9223372036854775808', 'number'),
      d: new JsonText('1e400', 'number'),
    });
  });

  it('keeps nested values as their source text, big numbers inside them included', () => {
    const row = jsonRow('{"o": {"k": [1, 2.50, 12345678901234567890]}, "a": [], "x": "y"}');
    assert.deepEqual(keptValues(row, ['o', 'a']), {o: new JsonText('{"k": [1, 2.50, 12345678901234567890]}', 'nested'), a: new JsonText('[]', 'nested')});
  });

  it('leaves out a field the row lacks, and takes the last of a repeated key as JSON.parse does', () => {
    const row = jsonRow('{"n": 1, "n": 2.5, "text": "t"}');
    assert.deepEqual(keptValues(row, ['n', 'missing']), {n: 2.5});
  });
});

describe('keptValues: CSV cells', () => {
  const row = {line: 2, endLine: 2, fields: {zip: '02134', n: '42', empty: ''}};
  it('stays strings by default, an empty cell included', () => {
    assert.deepEqual(keptValues(row, ['zip', 'n', 'empty']), {zip: '02134', n: '42', empty: ''});
  });
  it('is typed with inferTypes', () => {
    assert.deepEqual(keptValues(row, ['zip', 'n', 'empty'], true), {zip: '02134', n: 42n, empty: null});
  });
});

describe('inferCell (--infer-types)', () => {
  const cases: [string, unknown][] = [
    ['', null],
    ['42', 42n],
    ['-7', -7n],
    ['0', 0n],
    ['9223372036854775807', 9223372036854775807n],
    ['9223372036854775808', '9223372036854775808'], // beyond Int64: stays a string, never rounded
    ['007', '007'], // leading zeros: zip codes, padded ids
    ['+5', '+5'],
    ['-0', '-0'],
    [' 42', ' 42'],
    ['42 ', '42 '],
    ['1,000', '1,000'],
    ['2.5', 2.5],
    ['-0.5', -0.5],
    ['1e-3', 0.001],
    ['1E3', 1000],
    ['1.0', 1],
    ['.5', '.5'],
    ['5.', '5.'],
    ['007.5', '007.5'],
    ['1e400', '1e400'], // beyond a double
    ['NaN', 'NaN'],
    ['inf', 'inf'],
    ['true', true],
    ['True', true],
    ['TRUE', true],
    ['false', false],
    ['False', false],
    ['FALSE', false],
    ['yes', 'yes'],
    ['tRUE', 'tRUE'],
    ['null', 'null'],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} -> ${typeof expected === 'bigint' ? `${expected}n` : JSON.stringify(expected)}`, () => {
      assert.deepEqual(inferCell(text), expected);
    });
  }
});

describe('openTexts: kept columns', () => {
  it('JSONL records carry typed kept values; a missing field is absent', async () => {
    const path = await tempFile('k.jsonl', '{"text":"a","n":3,"tags":["x"],"ok":true}\n{"text":"b","n":null}\n');
    const records = await collect((await openTexts(path, {keepColumns: ['n', 'tags', 'ok']})).records);
    assert.deepEqual(records.map((r) => r.fields), [{n: 3n, tags: new JsonText('["x"]', 'nested'), ok: true}, {n: null}]);
  });

  it('CSV records keep strings, or typed values with inferTypes', async () => {
    const path = await tempFile('k.csv', 'text,zip,price,flag,note\na,02134,2.50,TRUE,\n');
    const plain = await collect((await openTexts(path, {keepColumns: ['zip', 'price', 'flag', 'note']})).records);
    assert.deepEqual(plain[0]!.fields, {zip: '02134', price: '2.50', flag: 'TRUE', note: ''});
    const typed = await collect((await openTexts(path, {keepColumns: ['zip', 'price', 'flag', 'note'], inferTypes: true})).records);
    assert.deepEqual(typed[0]!.fields, {zip: '02134', price: 2.5, flag: true, note: null});
  });
});
