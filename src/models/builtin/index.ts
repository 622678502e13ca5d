/**
 * Built-in models: shipped as npm packages (so they work offline), converted to a model folder on first
 * use and cached. Today there is one, Universal Sentence Encoder Lite ("builtin:use-lite"), sbertkit's
 * default model.
 */
import {randomBytes} from 'node:crypto';
import {mkdir, rename, rm, stat} from 'node:fs/promises';
import {removeStaleTemps, tempPathFor} from '../../io/output/temp-files.js';
import {dirname, join} from 'node:path';
import {EXIT, SbertkitError} from '../../errors.js';
import {cacheWriteError, sbertkitCacheDir} from '../cache-dir.js';
import {useLiteSourcePackage} from './use-lite/source-package.js';
import {CONVERTER_VERSION, USE_LITE_FILES} from './use-lite/layout.js';

export {CONVERTER_VERSION};

export const BUILTIN_MODELS = ['use-lite'] as const;
export type BuiltinModel = (typeof BUILTIN_MODELS)[number];
export const BUILTIN_PREFIX = 'builtin:';
export const DEFAULT_MODEL = 'builtin:use-lite';

export interface EnsureBuiltinOptions {
  /** Cache root (default sbertkitCacheDir()); the model goes to <cacheDir>/builtin/<name>/<revision>/. */
  cacheDir?: string;
  /** Progress lines for the user; called only when a conversion actually runs. */
  onStatus?: (message: string) => void;
}

export interface BuiltinModelFolder {
  /** The model folder. */
  dir: string;
  /** Canonical name, e.g. "builtin:use-lite". */
  name: string;
  /** "<source package version>-c<converter version>". */
  revision: string;
}

/** Where a built-in model's converted folder lives (whether or not it has been converted yet). */
export function builtinModelFolder(name: string, options: {cacheDir?: string} = {}): BuiltinModelFolder {
  const model = builtinName(name);
  const revision = `${useLiteSourcePackage().version}-c${CONVERTER_VERSION}`;
  return {dir: join(options.cacheDir ?? sbertkitCacheDir(), 'builtin', model, revision), name: BUILTIN_PREFIX + model, revision};
}

/** True once the converted folder exists and is complete. */
export async function isBuiltinModelConverted(name: string, options: {cacheDir?: string} = {}): Promise<boolean> {
  return isComplete(builtinModelFolder(name, options).dir);
}

/**
 * True for the "builtin:" namespace. Any "builtin:x" is claimed so that an unknown x gets a clear error
 * from ensureBuiltinModel; a bare "use-lite" is not, as it could be a local folder.
 */
export function isBuiltinModelName(s: string): boolean {
  return s.startsWith(BUILTIN_PREFIX);
}

function builtinName(name: string): BuiltinModel {
  const short = name.startsWith(BUILTIN_PREFIX) ? name.slice(BUILTIN_PREFIX.length) : name;
  const known = BUILTIN_MODELS.find((m) => m === short);
  if (known === undefined) {
    throw new SbertkitError(`unknown built-in model '${name}'; built-in models: ${BUILTIN_MODELS.map((m) => BUILTIN_PREFIX + m).join(', ')}`, {
      exitCode: EXIT.MODEL,
    });
  }
  return known;
}

async function isComplete(dir: string): Promise<boolean> {
  try {
    const sizes = await Promise.all(USE_LITE_FILES.map(async (f) => (await stat(join(dir, f))).size));
    return sizes.every((s) => s > 0);
  } catch {
    return false;
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Moves the finished temp folder to its final place. Another process converting at the same time may
 * have got there first (rename then fails because the target is not empty): its folder is as good as
 * ours. A target that exists but is incomplete (e.g. damaged by hand) is moved aside and replaced.
 */
async function install(tmp: string, dir: string): Promise<void> {
  try {
    await rename(tmp, dir);
    return;
  } catch (error) {
    if (errorCode(error) !== 'ENOTEMPTY' && errorCode(error) !== 'EEXIST') throw error;
  }
  if (await isComplete(dir)) return;
  const stale = `${dir}.stale-${randomBytes(4).toString('hex')}`;
  await rename(dir, stale).catch(() => undefined);
  try {
    await rename(tmp, dir);
  } catch (error) {
    if (!(await isComplete(dir))) throw error;
  } finally {
    await rm(stale, {recursive: true, force: true});
  }
}

/**
 * Returns the local model folder of a built-in model, converting it on first use. The conversion is
 * built in a temp sibling folder and renamed into place, so a folder at the final path is always
 * complete; later calls only check that it is there. Never touches the network.
 */
export async function ensureBuiltinModel(name: string, options: EnsureBuiltinOptions = {}): Promise<BuiltinModelFolder> {
  const result = builtinModelFolder(name, options);
  const {dir} = result;
  if (await isComplete(dir)) return result;
  const source = useLiteSourcePackage();
  const parent = dirname(dir);

  const started = performance.now();
  options.onStatus?.(`Converting built-in model ${result.name} (${source.name}@${source.version}) to ONNX; first use only`);
  try {
    await mkdir(parent, {recursive: true});
    // Named with our pid, so a conversion killed outright (SIGKILL, out of memory) leaves a folder the
    // next conversion recognizes as dead and removes.
    await removeStaleTemps(dir);
    const tmp = tempPathFor(dir);
    await mkdir(tmp);
    try {
      // The converter (and onnx-proto) loads only when a conversion really runs.
      const {writeUseLiteFolder} = await import('./use-lite/write-folder.js');
      await writeUseLiteFolder(tmp, source);
      await install(tmp, dir);
    } finally {
      await rm(tmp, {recursive: true, force: true});
    }
  } catch (error) {
    throw cacheWriteError(error, parent);
  }
  options.onStatus?.(`Converted ${result.name} in ${((performance.now() - started) / 1000).toFixed(1)} s: ${dir}`);
  return result;
}
