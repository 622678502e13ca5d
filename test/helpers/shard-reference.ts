/**
 * The --shard rule written a second way, for tests: BigInt arithmetic modulo 2^32 and Node's Buffer
 * for UTF-8, where src/io/shard/partition.ts uses Math.imul and TextEncoder.encodeInto.
 */
const M32 = 1n << 32n;

function mul32(a: bigint, b: bigint): bigint {
  return (a * b) % M32;
}

export function referenceFnv1a32(bytes: Uint8Array): bigint {
  let hash = 2166136261n;
  for (const byte of bytes) hash = mul32(hash ^ BigInt(byte), 16777619n);
  return hash;
}

export function referenceFmix32(h: bigint): bigint {
  h ^= h >> 16n;
  h = mul32(h, 0x85ebca6bn);
  h ^= h >> 13n;
  h = mul32(h, 0xc2b2ae35n);
  h ^= h >> 16n;
  return h;
}

/** The part of a row with this id (the --id-column value, else the row number). */
export function referenceShardOf(id: string | number, count: number): number {
  return Number(referenceFmix32(referenceFnv1a32(Buffer.from(String(id), 'utf8'))) % BigInt(count));
}
