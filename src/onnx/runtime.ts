/**
 * The one lazy import of onnxruntime-node. Commands that never run a graph (and `--help`) never pay
 * for loading the native runtime; the encoder and the vector search share the loaded module.
 */
import type * as Ort from 'onnxruntime-node';

export type OrtModule = typeof Ort;

let ortPromise: Promise<OrtModule> | undefined;

export function loadOrt(): Promise<OrtModule> {
  ortPromise ??= import('onnxruntime-node');
  return ortPromise;
}
