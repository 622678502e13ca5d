/**
 * A part's manifest: `PART.manifest.json` beside the part file, written (temp then rename) only after
 * the part itself is in place, so "a manifest with status complete" means "this part is whole". It
 * says what the part was made from (input checksum, shard, model and its graph's checksum, the
 * settings that shape the output), so a rerun can tell whether the part is still current and skip
 * it. It has no timestamps and no host names: the same part made on any machine has the same
 * manifest, and manifests diff cleanly. It never holds a credential (no Redis URL, no token).
 */
import {readFile, stat, unlink} from 'node:fs/promises';
import {writeTextOutput} from '../output/write-text.js';

export const MANIFEST_FORMAT = 'sbertkit-part-1';
export const MANIFEST_SUFFIX = '.manifest.json';

/** The hash rule of partition.ts, named in every manifest so a reader knows how rows were cut. */
export const PARTITION_RULE = 'fmix32(fnv1a32(utf8(String(id)))) mod N; id = --id-column value, else 0-based row number';

export interface PartModel {
  /** --model as resolved: folder path, hub id or builtin name. */
  id: string;
  revision?: string;
  /** sha256 of the ONNX graph that ran. */
  onnx_sha256: string;
  dimension: number;
  pooling: string;
  normalized: boolean;
  max_seq_length: number;
  /**
   * The vector file's schema metadata (pipelines/encode.ts vectorFileMetadata): whatever encoder
   * option comes to shape the vectors and is recorded there is compared on a rerun too.
   */
  vector_metadata: Record<string, string>;
}

/** The options that shape a part's rows, besides model and shard. */
export interface PartSettings {
  text_column: string;
  id_column: string | null;
  keep_columns: string[];
  /** --infer-types: CSV/TSV kept columns typed from their text. */
  infer_types: boolean;
  input_format: string;
  quote: boolean;
  on_invalid_utf8: string;
  /** CSV field separator. */
  delimiter: string;
  output_format: string;
  /** How vectors are stored, and where int8/uint8 ranges come from (the file, or the first rows). */
  precision: string;
  calibration: string | null;
  calibration_rows: number | null;
  /** The part has a text_sha256 column (--text-hash, --reuse); absent when it has not. */
  text_hash?: true;
}

export interface PartManifest {
  format: typeof MANIFEST_FORMAT;
  status: 'complete';
  sbertkit_version: string;
  input: {path: string; sha256: string; bytes: number};
  shard: {index: number; count: number; rule: string};
  /** Rows in this part. */
  rows: number;
  tokens: number;
  truncated: number;
  chunked: number;
  clipped: number;
  invalid_utf8_lines: number;
  output: {file: string; format: string; bytes: number; sha256: string};
  model: PartModel;
  settings: PartSettings;
}

export function manifestPathFor(part: string): string {
  return `${part}${MANIFEST_SUFFIX}`;
}

/** The manifest at `path`, or undefined when there is none or it is not one of ours (then the part is redone). */
export async function readManifest(path: string): Promise<PartManifest | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const json = JSON.parse(text) as Partial<PartManifest>;
    return json.format === MANIFEST_FORMAT && json.status === 'complete' ? (json as PartManifest) : undefined;
  } catch {
    return undefined;
  }
}

export async function writeManifest(path: string, manifest: PartManifest): Promise<void> {
  await writeTextOutput(path, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Removes a manifest before its part is redone, so no "complete" manifest ever describes a part being replaced. */
export async function removeManifest(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

export interface PartExpectation {
  inputSha256: string;
  shard: {index: number; count: number};
  settings: PartSettings;
  /** Absolute path of the part file the manifest should describe. */
  partPath: string;
}

/**
 * Why `manifest` does not describe a current part for `expected` (empty when it does), leaving the
 * model aside: checking it needs the model loaded, so it comes last (modelDifferences).
 */
export async function partDifferences(manifest: PartManifest, expected: PartExpectation): Promise<string[]> {
  const reasons: string[] = [];
  if (manifest.input.sha256 !== expected.inputSha256) reasons.push('the input changed (sha256 differs)');
  if (manifest.shard.index !== expected.shard.index || manifest.shard.count !== expected.shard.count) {
    reasons.push(`the manifest is for part ${manifest.shard.index}/${manifest.shard.count}`);
  }
  // Keys of either side: a setting recorded only when on (text_hash) differs when one side lacks it.
  const before = manifest.settings as unknown as Record<string, unknown>;
  const now = expected.settings as unknown as Record<string, unknown>;
  for (const key of new Set([...Object.keys(now), ...Object.keys(before)])) {
    if (JSON.stringify(before[key]) !== JSON.stringify(now[key])) reasons.push(`${key} changed`);
  }
  const size = await stat(expected.partPath).then((s) => s.size, () => undefined);
  if (size === undefined) reasons.push('the part file is missing');
  else if (size !== manifest.output.bytes) reasons.push('the part file is not the one the manifest describes (size differs)');
  return reasons;
}

/** Why the manifest's model is not `model` (empty when it is the same graph with the same settings). */
export function modelDifferences(manifest: PartManifest, model: PartModel): string[] {
  const reasons: string[] = [];
  const before = manifest.model as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(model)) {
    if (JSON.stringify(before[key]) !== JSON.stringify(value)) reasons.push(`model ${key} changed`);
  }
  return reasons;
}
