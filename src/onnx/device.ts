/**
 * Where graphs run: ONNX Runtime's CPU execution provider (bundled in onnxruntime-node) or its CUDA
 * provider, whose binaries are not in the npm package: onnxruntime-node's install script downloads
 * them next to the native binding, and sbertkit's offline-safe install skips that script. So before a
 * CUDA session is created, the provider library is looked for there, and its absence is one line
 * naming the install step instead of ONNX Runtime's dlopen message.
 */
import {existsSync, readdirSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {EXIT, SbertkitError} from '../errors.js';

export type Device = 'cpu' | 'cuda';
export const DEVICES: readonly Device[] = ['cpu', 'cuda'];

export const CUDA_INSTALL_STEP = 'ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js';

/** The execution providers of a session on `device` (CUDA sessions still fall back to CPU per node). */
export function executionProviders(device: Device): string[] {
  return device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'];
}

/** The CUDA provider library's file name on this platform. */
function cudaLibraryName(platform: NodeJS.Platform): string | undefined {
  if (platform === 'linux') return 'libonnxruntime_providers_cuda.so';
  if (platform === 'win32') return 'onnxruntime_providers_cuda.dll';
  return undefined;
}

/** The folders that hold onnxruntime-node's native binding for this platform (bin/napi-v*\/<platform>/<arch>). */
export function ortBindingFolders(): string[] {
  const packageDir = dirname(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')));
  const bin = join(packageDir, 'bin');
  if (!existsSync(bin)) return [];
  return readdirSync(bin)
    .filter((name) => name.startsWith('napi-v'))
    .map((name) => join(bin, name, process.platform, process.arch))
    .filter((dir) => existsSync(dir));
}

/**
 * Throws (exit 3) when `device` cannot be used here: CUDA on a platform ONNX Runtime has no CUDA build
 * for, or without the provider library installed. `folders` defaults to the installed binding's.
 */
export function checkDevice(device: Device, folders: readonly string[] = ortBindingFolders(), platform: NodeJS.Platform = process.platform): void {
  if (device === 'cpu') return;
  const library = cudaLibraryName(platform);
  if (library === undefined) throw new SbertkitError(`--device cuda: onnxruntime-node has no CUDA build for ${platform}; use --device cpu`, {exitCode: EXIT.MODEL});
  if (!folders.some((dir) => existsSync(join(dir, library)))) {
    throw new SbertkitError(`--device cuda: ONNX Runtime's CUDA provider is not installed (no ${library}); install it with \`${CUDA_INSTALL_STEP}\` (needs internet, CUDA 12 and cuDNN 9), or use --device cpu`, {
      exitCode: EXIT.MODEL,
    });
  }
}
