/** The --shard partition: the hash against published FNV-1a values and a second implementation, and the cut's properties. */
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {fmix32, fnv1a32, keepShard, parseShard, shardOf} from '../../../src/io/shard/partition.js';
import type {TextSource} from '../../../src/io/text/read-texts.js';
import type {TextRecord} from '../../../src/io/text/types.js';
import {SbertkitError} from '../../../src/errors.js';
import {referenceFmix32, referenceShardOf} from '../../helpers/shard-reference.js';
import {collect} from '../../helpers/tmp.js';

const utf8 = (s: string) => Buffer.from(s, 'utf8');

describe('shard partition', () => {
  test('parseShard accepts i/N with 0 <= i < N and refuses the rest with exit 2 naming --shard', () => {
    assert.deepEqual(parseShard('0/1'), {index: 0, count: 1});
    assert.deepEqual(parseShard(' 7 / 8 '), {index: 7, count: 8});
    for (const bad of ['8/8', '1/0', '-1/4', '1.5/4', '3', 'a/b', '', '2/2000000']) {
      assert.throws(() => parseShard(bad), (error: unknown) => error instanceof SbertkitError && error.exitCode === 2 && error.field === '--shard', bad);
    }
  });

  test('FNV-1a 32 matches the published test vectors', () => {
    // From the FNV reference test suite (Landon Curt Noll's fnv test vectors, FNV-1a 32-bit).
    assert.equal(fnv1a32(utf8('')), 0x811c9dc5);
    assert.equal(fnv1a32(utf8('a')), 0xe40c292c);
    assert.equal(fnv1a32(utf8('foobar')), 0xbf9cf968);
  });

  test('fmix32 and shardOf agree with a BigInt implementation, also for non-ASCII ids and numbers', () => {
    for (const h of [0, 1, 0x811c9dc5, 0xffffffff, 0x12345678, 0x80000000]) assert.equal(fmix32(h), Number(referenceFmix32(BigInt(h))), String(h));
    const ids: Array<string | number> = ['', 'doc-1', 'é', 'naïve café', '日本語のテキスト', '🙂 emoji', 'x'.repeat(500), 0, 1, 42, 123456789, 1e21, '9007199254740993'];
    for (const count of [1, 2, 3, 8, 64, 1000]) {
      for (const id of ids) assert.equal(shardOf(id, count), referenceShardOf(id, count), `${String(id)} of ${count}`);
    }
  });

  test('row numbers spread evenly: 7 parts of 70,000 rows are each within 3% of 10,000', () => {
    const counts = new Array<number>(7).fill(0);
    for (let row = 0; row < 70_000; row++) counts[shardOf(row, 7)]!++;
    for (const c of counts) assert.ok(Math.abs(c - 10_000) < 300, counts.join(','));
  });

  test('keepShard: the parts of a source hold every record once, each part in input order', async () => {
    const ids = Array.from({length: 500}, (_, i) => (i % 3 === 0 ? i : `id-${i}`));
    const source = (): TextSource => ({
      file: 'x.csv',
      format: 'csv',
      columns: ['id', 'text'],
      headerEndLine: 1,
      records: (async function* () {
        for (const [i, id] of ids.entries()) yield {id, text: `t${i}`, fields: {}, line: i + 2, endLine: i + 2} satisfies TextRecord;
      })(),
      close: async () => {},
      invalidUtf8Lines: 0,
    });
    const parts = await Promise.all([0, 1, 2, 3, 4].map(async (index) => (await collect(keepShard(source(), {index, count: 5}).records)).map((r) => r.id)));
    for (const [index, part] of parts.entries()) {
      assert.deepEqual(part, ids.filter((id) => referenceShardOf(id, 5) === index), `part ${index}`);
    }
    assert.deepEqual(parts.flat().sort(), [...ids].sort());
  });
});
