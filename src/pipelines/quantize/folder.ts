/**
 * The output folder of `quantize`: a complete model folder (the source's configs and tokenizer, the
 * quantized graph, quantize_config.json) built in a temp sibling and renamed into place, so a folder
 * at OUT_DIR is always complete and a failed or stopped run leaves nothing that looks like a model.
 */
import {copyFile, mkdir, readdir, rename, rm, stat} from 'node:fs/promises';
import {dirname, join, relative, resolve, sep} from 'node:path';
import {EXIT, SbertkitError} from '../../errors.js';
import {forgetOnExit, removeOnExit} from '../../io/output/exit-cleanup.js';
import {removeStaleTemps, tempPathFor} from '../../io/output/temp-files.js';

/** ONNX graphs and their external-data files: everything of these the output gets is the new graph. */
const GRAPH_FILE = /\.onnx(_data|\.data)?$/i;

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** OUT_DIR may be missing or an empty folder; a non-empty one only with --force; never a file. */
export async function checkOutputFolder(output: string, force: boolean): Promise<void> {
  let entries: string[];
  try {
    const info = await stat(output);
    if (!info.isDirectory()) throw new SbertkitError('output exists and is not a folder', {file: output, exitCode: EXIT.BAD_INPUT});
    entries = await readdir(output);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    if (error instanceof SbertkitError) throw error;
    throw new SbertkitError(`cannot read output folder: ${(error as Error).message}`, {file: output, exitCode: EXIT.BAD_INPUT});
  }
  if (entries.length > 0 && !force) {
    throw new SbertkitError('output folder exists and is not empty (--force replaces it)', {file: output, exitCode: EXIT.BAD_INPUT});
  }
}

/** Writing into, over or around the source model would copy the output into itself or delete the source. */
export function refuseOverlap(output: string, modelDir: string): void {
  const out = resolve(output);
  const src = resolve(modelDir);
  const inside = (child: string, parent: string): boolean => child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
  if (inside(out, src) || inside(src, out)) {
    throw new SbertkitError(`output folder must be outside the source model folder ${src}`, {file: output, exitCode: EXIT.BAD_INPUT});
  }
}

/**
 * Where the quantized graph goes in OUT_DIR: the source's own path when it is one `--model` finds by
 * itself (onnx/model.onnx or model.onnx), else onnx/model.onnx, so `--model OUT_DIR` needs no --model-file.
 */
export function outputGraphPath(sourceGraph: string): string {
  return sourceGraph === 'model.onnx' ? 'model.onnx' : 'onnx/model.onnx';
}

/**
 * Copies every file of `sourceDir` except ONNX graphs, their external data and hidden entries (a
 * checkout's .git, temp files of other runs) into `dest`, following symlinks (hub snapshots link to blobs).
 */
async function copyModelFiles(sourceDir: string, dest: string): Promise<void> {
  for (const entry of await readdir(sourceDir)) {
    if (entry.startsWith('.')) continue;
    const from = join(sourceDir, entry);
    const to = join(dest, entry);
    const info = await stat(from);
    if (info.isDirectory()) {
      await mkdir(to);
      await copyModelFiles(from, to);
    } else if (info.isFile() && !GRAPH_FILE.test(entry)) {
      await copyFile(from, to);
    }
  }
}

export interface StagedFolder {
  /** The temp folder; becomes `output` on commit. */
  dir: string;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** A temp folder beside `output` holding the source's files; the caller adds the graph and metadata. */
export async function stageModelFolder(sourceDir: string, output: string): Promise<StagedFolder> {
  const target = resolve(output);
  await mkdir(dirname(target), {recursive: true});
  await removeStaleTemps(target);
  const dir = tempPathFor(target);
  await mkdir(dir);
  removeOnExit(dir);
  const abort = async (): Promise<void> => {
    await rm(dir, {recursive: true, force: true});
    forgetOnExit(dir);
  };
  try {
    await copyModelFiles(sourceDir, dir);
  } catch (error) {
    await abort();
    throw new SbertkitError(`cannot copy the model folder: ${(error as Error).message}`, {file: relative(process.cwd(), sourceDir) || sourceDir, exitCode: EXIT.IO});
  }
  return {
    dir,
    abort,
    async commit() {
      try {
        // An empty folder at the target is replaced by rename itself.
        await rename(dir, target);
      } catch (error) {
        if (errorCode(error) !== 'ENOTEMPTY' && errorCode(error) !== 'EEXIST') throw error;
        // --force: move the old folder aside, put the new one in, then delete the old one.
        const old = tempPathFor(target);
        await rename(target, old);
        await rename(dir, target);
        await rm(old, {recursive: true, force: true});
      }
      forgetOnExit(dir);
    },
  };
}
