/**
 * `--shard i/N`: which rows belong to part i of N. The rule is a pure function of the row's id, so N
 * runs on N machines, each reading the whole input, agree on the cut without talking to each other,
 * and every row lands in exactly one part.
 *
 * The rule (stable across versions, since parts of one job may be made by different releases):
 * part = fmix32(FNV-1a-32(UTF-8 bytes of String(id))) mod N, where id is the --id-column value, else
 * the 0-based row number. FNV-1a is the usual cheap, well-specified string hash; its low bits are
 * weak for runs of similar keys ("0", "1", "2"...), so murmur3's 32-bit finalizer mixes them before
 * the modulo.
 */
import {SbertkitError} from '../../errors.js';
import type {TextSource} from '../text/read-texts.js';

export interface Shard {
  /** 0-based part number, below count. */
  index: number;
  /** Number of parts. */
  count: number;
}

/** Parts beyond this are surely a typo (and would make part file names unwieldy). */
export const MAX_SHARDS = 1_000_000;

/** "i/N" -> {index: i, count: N}; 0 <= i < N. */
export function parseShard(text: string, flag = '--shard'): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (match === null) throw new SbertkitError(`${flag} '${text}' is not i/N (e.g. 0/8: the first of 8 parts)`, {field: flag});
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || count > MAX_SHARDS) throw new SbertkitError(`${flag} '${text}': N must be between 1 and ${MAX_SHARDS}`, {field: flag});
  if (index >= count) throw new SbertkitError(`${flag} '${text}': i counts from 0, so it must be below N (${count})`, {field: flag});
  return {index, count};
}

export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(256);

/** FNV-1a, 32 bits, over bytes. */
export function fnv1a32(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash >>> 0;
}

/** murmur3's 32-bit finalizer: every input bit affects every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The part (0..count-1) that the row with this id belongs to. */
export function shardOf(id: string | number | bigint, count: number): number {
  const text = String(id);
  // A UTF-8 encoding takes at most 3 bytes per UTF-16 unit; the buffer is reused across rows.
  if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3);
  const {written} = encoder.encodeInto(text, scratch);
  return fmix32(fnv1a32(scratch.subarray(0, written))) % count;
}

/**
 * Keeps only the source's records that belong to `shard`, in input order. The source is changed in
 * place rather than copied, so whatever else it carries (counters, close) keeps working.
 */
export function keepShard(source: TextSource, shard: Shard): TextSource {
  const all = source.records;
  source.records = (async function* () {
    for await (const record of all) if (shardOf(record.id, shard.count) === shard.index) yield record;
  })();
  return source;
}
