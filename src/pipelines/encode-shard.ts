/**
 * `encode --shard i/N` as a resumable task: encode only part i's rows (io/shard/partition.ts) into
 * the part file, then write its manifest (io/shard/manifest.ts). A rerun whose manifest is complete
 * and matches the input checksum, the shard, the settings and the model does nothing, so an array
 * job or a queue can rerun every part after any failure and only the missing ones do work.
 *
 * The order of writes is what makes this safe: the old manifest goes first, then the part is written
 * to a temp file and renamed, and the new manifest is written last. A run killed at any point leaves
 * either no manifest (the part is redone) or a manifest that describes the part beside it.
 */
import {resolve} from 'node:path';
import {stat} from 'node:fs/promises';
import {SbertkitError, EXIT} from '../errors.js';
import type {SentenceEncoder} from '../encoder/types.js';
import {STDIN} from '../io/formats.js';
import {
  manifestPathFor,
  MANIFEST_FORMAT,
  modelDifferences,
  partDifferences,
  PARTITION_RULE,
  readManifest,
  removeManifest,
  writeManifest,
  type PartManifest,
  type PartModel,
  type PartSettings,
} from '../io/shard/manifest.js';
import {formatShard, type Shard} from '../io/shard/partition.js';
import {detectTextFormat} from '../io/formats.js';
import {fileSha256} from '../models/fingerprint.js';
import {sbertkitVersion} from '../version.js';
import {secondsSince, type PipelineServices} from './context.js';
import {encodeOutputFormat, encodeSummary, openEncodeTexts, runEncode, vectorFileMetadata, type EncodeOptions, type EncodeResult} from './encode.js';
import {fixedKindOf} from '../io/rows/value-columns.js';
import type {Cell, FixedKind} from '../io/rows/types.js';
import {ID_COLUMN} from '../io/vectors/types.js';
import {valueIdCell, type ValuePresets} from '../io/vectors/write-vectors.js';

export interface EncodeShardResult extends EncodeResult {
  /** "i/N". */
  shard: string;
  /** Path of the part's manifest. */
  manifest: string;
  input_sha256: string;
  /** True when the part was already complete for this input and model: nothing was encoded. */
  skipped: boolean;
}

/** What a submitter fixed (queue jobs): a worker refuses to make the part from anything else. */
export interface ShardExpectations {
  /** The input's sha256 when the work was submitted. */
  inputSha256?: string;
  /** The ONNX graph's sha256 when the work was submitted. */
  onnxSha256?: string;
}

/** Runs encode; with options.shard, as a resumable part with a manifest (runEncodeShard). */
export async function runEncodeTask(options: EncodeOptions, services: PipelineServices): Promise<EncodeResult | EncodeShardResult> {
  return options.shard === undefined ? runEncode(options, services) : runEncodeShard({...options, shard: options.shard}, services);
}

/** The summary of either kind of encode result. */
export function encodeTaskSummary(result: EncodeResult | EncodeShardResult): string {
  if (!('shard' in result)) return encodeSummary(result);
  if (result.skipped) {
    return `part ${result.shard} already complete (${result.rows} texts, same input and model; ${result.manifest}); nothing to do -> ${result.output}`;
  }
  return `${encodeSummary(result)} [part ${result.shard}; manifest ${result.manifest}]`;
}

export async function runEncodeShard(
  options: EncodeOptions & {shard: Shard},
  services: PipelineServices,
  expect: ShardExpectations = {},
): Promise<EncodeShardResult> {
  const started = performance.now();
  const {shard} = options;
  if (options.input === STDIN) {
    throw new SbertkitError('--shard needs an input file that every part can read (not stdin)', {field: '--shard', exitCode: EXIT.BAD_INPUT});
  }
  if (options.output === STDIN) {
    throw new SbertkitError('--shard needs -o PART_FILE: the manifest is written beside it', {field: '--output', exitCode: EXIT.BAD_INPUT});
  }
  const partPath = resolve(options.output);
  const manifestPath = manifestPathFor(options.output);
  const inputStat = await stat(options.input).catch(() => undefined);
  // A pipe or device cannot be read twice (checksum, then rows), nor by N machines.
  if (inputStat === undefined || !inputStat.isFile()) {
    throw new SbertkitError('--shard needs a regular input file (every part reads it whole)', {file: options.input, exitCode: EXIT.BAD_INPUT});
  }
  const inputBytes = inputStat.size;
  const inputSha256 = await fileSha256(options.input);
  if (expect.inputSha256 !== undefined && expect.inputSha256 !== inputSha256) {
    throw new SbertkitError(`the input changed since the work was submitted (sha256 ${inputSha256.slice(0, 12)}..., submitted ${expect.inputSha256.slice(0, 12)}...)`, {
      file: options.input,
      exitCode: EXIT.BAD_INPUT,
    });
  }
  const settings = partSettings(options);

  let encoder: SentenceEncoder | undefined;
  const previous = await readManifest(manifestPath);
  if (previous !== undefined && (await partDifferences(previous, {inputSha256, shard, settings, partPath})).length === 0) {
    // Only now is the model worth loading: its graph checksum is the last thing to compare.
    encoder = await services.loadEncoder();
    const model = await checkedPartModel(encoder, expect);
    if (modelDifferences(previous, model).length === 0) {
      await encoder.close();
      return {
        input: options.input,
        output: options.output,
        format: previous.output.format as EncodeResult['format'],
        model: previous.model.id,
        dimension: previous.model.dimension,
        rows: previous.rows,
        tokens: previous.tokens,
        truncated: previous.truncated,
        chunked: previous.chunked,
        precision: options.precision ?? 'float32',
        clipped: previous.clipped,
        max_seq_length: previous.model.max_seq_length,
        invalid_utf8_lines: previous.invalid_utf8_lines,
        seconds: secondsSince(started),
        rows_per_second: 0,
        stopped_early: false,
        shard: formatShard(shard),
        manifest: manifestPath,
        input_sha256: inputSha256,
        skipped: true,
      };
    }
  }

  await removeManifest(manifestPath);
  const preloaded = encoder;
  let model: PartModel | undefined;
  const presets = await sharedColumnTypes(options);
  const result = await runEncode({...options, ...(presets === undefined ? {} : {presets})}, {
    ...services,
    loadEncoder: async () => {
      const loaded = preloaded ?? (await services.loadEncoder());
      // Checked before any row is encoded: a worker with another graph must not make the part.
      model = await checkedPartModel(loaded, expect);
      return loaded;
    },
  });
  const manifest: PartManifest = {
    format: MANIFEST_FORMAT,
    status: 'complete',
    sbertkit_version: sbertkitVersion(),
    input: {path: options.input, sha256: inputSha256, bytes: inputBytes},
    shard: {index: shard.index, count: shard.count, rule: PARTITION_RULE},
    rows: result.rows,
    tokens: result.tokens,
    truncated: result.truncated,
    chunked: result.chunked,
    clipped: result.clipped,
    invalid_utf8_lines: result.invalid_utf8_lines,
    output: {file: options.output, format: result.format, bytes: (await stat(partPath)).size, sha256: await fileSha256(partPath)},
    model: model!,
    settings,
  };
  await writeManifest(manifestPath, manifest);
  return {...result, seconds: secondsSince(started), shard: formatShard(shard), manifest: manifestPath, input_sha256: inputSha256, skipped: false};
}

/** The encoder's model facts, checked against the graph a job expects; the encoder is closed when they disagree. */
async function checkedPartModel(encoder: SentenceEncoder, expect: ShardExpectations): Promise<PartModel> {
  try {
    const model = await partModel(encoder);
    checkExpectedGraph(model, expect);
    return model;
  } catch (error) {
    await encoder.close();
    throw error;
  }
}

/** The model facts a manifest records (and a rerun compares). */
async function partModel(encoder: SentenceEncoder): Promise<PartModel> {
  return {
    id: encoder.spec.name,
    ...(encoder.spec.revision === undefined ? {} : {revision: encoder.spec.revision}),
    onnx_sha256: await fileSha256(encoder.spec.onnxPath),
    dimension: encoder.dimension,
    pooling: encoder.pooling,
    normalized: encoder.normalized,
    max_seq_length: encoder.maxSeqLength,
    vector_metadata: {...vectorFileMetadata(encoder)},
  };
}

function checkExpectedGraph(model: PartModel, expect: ShardExpectations): void {
  if (expect.onnxSha256 !== undefined && expect.onnxSha256 !== model.onnx_sha256) {
    throw new SbertkitError(
      `model ${model.id} here is another graph than the one submitted (onnx sha256 ${model.onnx_sha256.slice(0, 12)}..., submitted ${expect.onnxSha256.slice(0, 12)}...)`,
      {exitCode: EXIT.MODEL},
    );
  }
}

/** Rows of the whole input that type every part's id and kept columns (a columnar first row group at most). */
export const PART_TYPE_SAMPLE_ROWS = 65_536;

/**
 * The stored types every part gives its id (--id-column) and kept columns, from the whole input's
 * first rows, which every part reads anyway. Typed from its own first rows instead, a part whose rows
 * happen to hold only integers would make Int64 where another makes Float64 or Utf8, and the parts
 * would no longer read as one table. Undefined when there is no such column, or the parts are JSONL
 * (no column types to fix).
 */
async function sharedColumnTypes(options: EncodeOptions): Promise<ValuePresets | undefined> {
  const kept = options.keepColumns ?? [];
  if (options.idColumn === undefined && kept.length === 0) return undefined;
  if (encodeOutputFormat(options.output, options.format) === 'jsonl') return undefined;
  const ids: Cell[] = [];
  const cells = new Map<string, Cell[]>(kept.map((name) => [name, []]));
  const source = await openEncodeTexts(options);
  try {
    for await (const record of source.records) {
      ids.push(valueIdCell(record.id));
      for (const [name, column] of cells) column.push(record.fields[name]);
      if (ids.length >= PART_TYPE_SAMPLE_ROWS) break;
    }
  } finally {
    await source.close();
  }
  const kinds: Record<string, FixedKind> = Object.fromEntries([...cells].map(([name, column]) => [name, fixedKindOf(column)]));
  if (options.idColumn !== undefined) kinds[ID_COLUMN] = fixedKindOf(ids);
  return {kinds, by: `the input's first ${ids.length} rows (which type every part)`};
}

function partSettings(options: EncodeOptions): PartSettings {
  return {
    text_column: options.textColumn ?? 'text',
    id_column: options.idColumn ?? null,
    keep_columns: options.keepColumns ?? [],
    infer_types: options.inferTypes ?? false,
    input_format: options.inputFormat ?? detectTextFormat(options.input) ?? 'unknown',
    quote: options.quote ?? false,
    on_invalid_utf8: options.onInvalidUtf8 ?? 'error',
    delimiter: options.delimiter ?? ',',
    output_format: encodeOutputFormat(options.output, options.format),
    precision: options.precision ?? 'float32',
    calibration: options.calibration ?? null,
    calibration_rows: options.calibrationRows ?? null,
    // Only when set, so manifests written before the option existed still match plain runs.
    ...(options.textHash === true || options.reuse !== undefined ? {text_hash: true} : {}),
  };
}
