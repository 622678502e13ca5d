import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {detectTextFormat, detectVectorFormat, isGzipPath} from '../../src/io/formats.js';

describe('detectTextFormat', () => {
  it('maps extensions, case-insensitively and through .gz', () => {
    const cases: [string, string | undefined][] = [
      ['a.csv', 'csv'],
      ['dir.v1/a.TSV', 'tsv'],
      ['a.tab', 'tsv'],
      ['a.jsonl', 'jsonl'],
      ['a.ndjson', 'jsonl'],
      ['a.txt', 'txt'],
      ['a.csv.gz', 'csv'],
      ['a.parquet', undefined],
      ['noext', undefined],
      ['.csv', undefined],
      ['-', undefined],
    ];
    for (const [path, format] of cases) assert.equal(detectTextFormat(path), format, path);
  });
});

describe('detectVectorFormat', () => {
  it('maps extensions', () => {
    const cases: [string, string | undefined][] = [
      ['v.parquet', 'parquet'],
      ['v.arrow', 'arrow'],
      ['v.feather', 'arrow'],
      ['v.ipc', 'arrow'],
      ['v.arrows', 'arrow-stream'],
      ['v.jsonl', 'jsonl'],
      ['v.csv', undefined],
      ['-', undefined],
    ];
    for (const [path, format] of cases) assert.equal(detectVectorFormat(path), format, path);
  });
});

describe('isGzipPath', () => {
  it('is true only for a trailing .gz on a real path', () => {
    assert.equal(isGzipPath('a.csv.GZ'), true);
    assert.equal(isGzipPath('a.gz.csv'), false);
    assert.equal(isGzipPath('-'), false);
  });
});
