/**
 * The README's "Reading the output" DuckDB query, taken from the README itself, run on what the quick
 * start's encode writes: DuckDB's cosines equal ones computed here from the vectors (read by DuckDB as
 * plain lists), and its top pair is the top pair by that computation.
 */
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, test} from 'node:test';
import {useDuckDb, sqlString} from '../helpers/duckdb.js';
import {runCli} from '../helpers/cli.js';
import {repoRoot} from '../helpers/paths.js';
import {tempDir} from '../helpers/tmp.js';

const query = useDuckDb();

function readmeSql(): string {
  const readme = readFileSync(join(repoRoot(), 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Reading the output'));
  const match = /```sql\n([\s\S]*?)```/.exec(section);
  assert.ok(match, 'the README has a sql block under "Reading the output"');
  return match[1]!;
}

describe('README: reading the output with DuckDB', () => {
  test('the query runs on encode\'s Parquet and its cosines are the vectors\' cosines', async () => {
    const dir = await tempDir();
    const parquet = join(dir, 'sentences.parquet');
    const r = await runCli(['encode', 'examples/sentences.txt', '-o', parquet, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const rows = await query(readmeSql().replaceAll("'sentences.parquet'", sqlString(parquet)));
    assert.equal(rows.length, 2);
    const vectors = (await query(`SELECT id, embedding FROM ${sqlString(parquet)} ORDER BY id`)).map((row) => (row.embedding as number[]).map(Number));
    const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0) / Math.sqrt(a.reduce((s, x) => s + x * x, 0) * b.reduce((s, x) => s + x * x, 0));
    const all: {i: number; j: number; c: number}[] = [];
    for (let i = 0; i < vectors.length; i++) for (let j = i + 1; j < vectors.length; j++) all.push({i, j, c: cos(vectors[i]!, vectors[j]!)});
    all.sort((x, y) => y.c - x.c);
    rows.forEach((row, k) => {
      assert.deepEqual([Number(row.id1), Number(row.id2)], [all[k]!.i, all[k]!.j]);
      assert.ok(Math.abs(Number(row.cosine) - all[k]!.c) <= 1e-5);
    });
  });
});
