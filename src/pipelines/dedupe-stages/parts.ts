/**
 * The staged dedupe's input: a folder of vector part files, as `encode --shard i/N` writes them (each
 * with its manifest), or any vector files (.parquet, .arrow, .arrows) when the folder has no
 * manifests. Parts are read in order (shard index, else file name), and row g of the whole corpus is
 * row g - offset of its part: that order is what `--keep first` means.
 *
 * `dedupe plan` records the parts it found (name, rows, size, and the manifest's checksum or the
 * file's modification time); every later stage checks the folder still holds exactly those files,
 * so a part replaced between stages is refused rather than silently mixed in.
 */
import {readdir, stat} from 'node:fs/promises';
import {basename, join, resolve} from 'node:path';
import {EXIT, SbertkitError} from '../../errors.js';
import {detectVectorFormat, type VectorFormat} from '../../io/formats.js';
import {MANIFEST_SUFFIX, readManifest, type PartManifest} from '../../io/shard/manifest.js';
import {openVectors} from '../../io/vectors/read-vectors.js';

export interface StagePart {
  /** File name inside the parts folder. */
  file: string;
  format: VectorFormat;
  rows: number;
  bytes: number;
  /** The manifest's checksum of the part (encode --shard parts). */
  sha256: string | null;
  /** Modification time, for parts without a manifest. */
  mtime_ms: number | null;
}

export interface PartsFound {
  /** Absolute path of the folder. */
  dir: string;
  parts: StagePart[];
  /** From the manifests: the model that made every part. */
  model: {id: string; onnx_sha256: string; dimension: number} | null;
}

const VECTOR_FORMATS_IN_FOLDER: readonly VectorFormat[] = ['parquet', 'arrow', 'arrow-stream'];

export async function findParts(folder: string): Promise<PartsFound> {
  const dir = resolve(folder);
  const names = await readdir(dir).catch(() => {
    throw new SbertkitError('the parts folder cannot be read (give the folder encode --shard wrote its parts to)', {file: folder, exitCode: EXIT.BAD_INPUT});
  });
  const manifestNames = names.filter((n) => n.endsWith(MANIFEST_SUFFIX)).sort();
  const found = manifestNames.length > 0 ? await partsFromManifests(dir, manifestNames) : await plainParts(dir, names);
  if (found.parts.length === 0) throw new SbertkitError('no vector parts here (.parquet, .arrow, .arrows, or encode --shard parts with manifests)', {file: folder, exitCode: EXIT.BAD_INPUT});
  return found;
}

async function partsFromManifests(dir: string, manifestNames: string[]): Promise<PartsFound> {
  const manifests: {name: string; manifest: PartManifest}[] = [];
  for (const name of manifestNames) {
    const manifest = await readManifest(join(dir, name));
    if (manifest === undefined) throw new SbertkitError('this manifest is not a complete part manifest: its part is unfinished (rerun that encode --shard)', {file: join(dir, name), exitCode: EXIT.BAD_INPUT});
    manifests.push({name, manifest});
  }
  const first = manifests[0]!.manifest;
  const count = first.shard.count;
  const byIndex = new Map<number, {name: string; manifest: PartManifest}>();
  for (const m of manifests) {
    const {shard, input, model} = m.manifest;
    const where = join(dir, m.name);
    if (shard.count !== count) throw new SbertkitError(`part ${shard.index}/${shard.count} is from another cut than part ${first.shard.index}/${count}: one folder must hold the parts of one encode --shard run`, {file: where, exitCode: EXIT.BAD_INPUT});
    if (input.sha256 !== first.input.sha256) throw new SbertkitError('this part was made from another input than the others (input sha256 differs)', {file: where, exitCode: EXIT.BAD_INPUT});
    if (model.onnx_sha256 !== first.model.onnx_sha256 || model.dimension !== first.model.dimension) throw new SbertkitError('this part was made by another model than the others (onnx sha256 differs)', {file: where, exitCode: EXIT.BAD_INPUT});
    if (byIndex.has(shard.index)) throw new SbertkitError(`two manifests describe part ${shard.index}/${count}`, {file: where, exitCode: EXIT.BAD_INPUT});
    byIndex.set(shard.index, m);
  }
  const missing = Array.from({length: count}, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0) {
    throw new SbertkitError(`parts ${missing.slice(0, 5).map((i) => `${i}/${count}`).join(', ')}${missing.length > 5 ? ', ...' : ''} are not finished (no manifest); rerun those encode --shard runs`, {file: dir, exitCode: EXIT.BAD_INPUT});
  }
  const parts: StagePart[] = [];
  for (let i = 0; i < count; i++) {
    const {name, manifest} = byIndex.get(i)!;
    const file = name.slice(0, -MANIFEST_SUFFIX.length);
    const format = detectVectorFormat(file) ?? (manifest.output.format as VectorFormat);
    const size = await stat(join(dir, file)).then((s) => s.size, () => undefined);
    if (size !== manifest.output.bytes) throw new SbertkitError('this part is missing or is not the file its manifest describes (size differs)', {file: join(dir, file), exitCode: EXIT.BAD_INPUT});
    parts.push({file, format, rows: manifest.rows, bytes: size, sha256: manifest.output.sha256, mtime_ms: null});
  }
  return {dir, parts, model: {id: first.model.id, onnx_sha256: first.model.onnx_sha256, dimension: first.model.dimension}};
}

async function plainParts(dir: string, names: string[]): Promise<PartsFound> {
  const files = names.filter((n) => !n.startsWith('.') && VECTOR_FORMATS_IN_FOLDER.includes(detectVectorFormat(n)!)).sort();
  const parts: StagePart[] = [];
  for (const file of files) {
    const path = join(dir, file);
    const info = await stat(path);
    if (!info.isFile()) continue;
    parts.push({file, format: detectVectorFormat(file)!, rows: await countRows(path), bytes: info.size, sha256: null, mtime_ms: info.mtimeMs});
  }
  return {dir, parts, model: null};
}

async function countRows(path: string): Promise<number> {
  const source = await openVectors(path);
  let rows = 0;
  try {
    for await (const batch of source.batches) rows += batch.vectors.rows;
  } finally {
    await source.close();
  }
  return rows;
}

/** Refuses (one line) when a recorded part is gone or changed since `dedupe plan` listed it. */
export async function checkPartsUnchanged(dir: string, parts: readonly StagePart[]): Promise<void> {
  for (const part of parts) {
    const path = join(dir, part.file);
    const info = await stat(path).catch(() => undefined);
    const changed =
      info === undefined ? 'is gone'
      : info.size !== part.bytes ? 'changed size'
      : part.mtime_ms !== null && info.mtimeMs !== part.mtime_ms ? 'was modified'
      : part.sha256 !== null && (await readManifest(`${path}${MANIFEST_SUFFIX}`))?.output.sha256 !== part.sha256 ? 'was remade (its manifest changed)'
      : undefined;
    if (changed !== undefined) {
      throw new SbertkitError(`this part ${changed} since dedupe plan listed it; rerun dedupe plan (and the stages after it)`, {file: path, exitCode: EXIT.BAD_INPUT});
    }
  }
}

/** First global row of each part, and the total after the last. */
export function partOffsets(parts: readonly StagePart[]): number[] {
  const offsets = [0];
  for (const part of parts) offsets.push(offsets[offsets.length - 1]! + part.rows);
  return offsets;
}

export function partPath(dir: string, part: StagePart): string {
  return join(dir, basename(part.file));
}
