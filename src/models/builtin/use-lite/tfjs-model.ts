/**
 * Reads a TF.js graph model (model.json + binary weight shards) without TensorFlow: the topology is
 * plain JSON and the weights are little-endian arrays laid end to end in manifest order. The converter
 * only needs the node list and the constant values, so that is all this exposes.
 */
import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {EXIT, SbertkitError} from '../../../errors.js';

export interface TfNode {
  name: string;
  op: string;
  /** Producer names as written in the graph ("node", "node:1" for a second output, "^node" for control deps). */
  inputs: string[];
  attr: Record<string, unknown>;
}

export type TfDtype = 'float32' | 'int32';

export interface TfWeight {
  name: string;
  dtype: TfDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

interface ModelJson {
  modelTopology?: {node?: Array<{name: string; op: string; input?: string[]; attr?: Record<string, unknown>}>};
  weightsManifest?: Array<{paths: string[]; weights: ManifestEntry[]}>;
}

/** Strips the output index and control-dependency marker from an input reference. */
export function producerName(input: string): string {
  const name = input.startsWith('^') ? input.slice(1) : input;
  const colon = name.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(name.slice(colon + 1)) ? name.slice(0, colon) : name;
}

export class TfjsGraph {
  private readonly byName = new Map<string, TfNode>();

  constructor(
    readonly nodes: TfNode[],
    /** Weights in manifest order, keyed by the Const node name they belong to. */
    readonly weights: Map<string, TfWeight>,
    /** Total bytes of all shards (a cheap fingerprint of the weight files). */
    readonly weightBytes: number,
  ) {
    for (const n of nodes) this.byName.set(n.name, n);
  }

  node(name: string): TfNode {
    const n = this.byName.get(name);
    if (n === undefined) throw modelChanged(`node ${name} not found`);
    return n;
  }

  weight(name: string): TfWeight {
    const w = this.weights.get(name);
    if (w === undefined) throw modelChanged(`weight ${name} not found`);
    return w;
  }

  /**
   * The constant feeding input `index` of a compute node. Constants are reached through the node that
   * uses them because Grappler de-duplicated small constants, so their own names can be misleading.
   */
  constInput(nodeName: string, index: number): TfWeight {
    const n = this.node(nodeName);
    const input = n.inputs[index];
    if (input === undefined) throw modelChanged(`node ${nodeName} has no input ${index}`);
    const producer = this.node(producerName(input));
    if (producer.op !== 'Const') throw modelChanged(`input ${index} of ${nodeName} is ${producer.op}, expected Const`);
    return this.weight(producer.name);
  }
}

/** The error raised whenever the package no longer looks like the graph the converter was written for. */
export function modelChanged(detail: string): SbertkitError {
  return new SbertkitError(`built-in model use-lite: the TF.js model does not have the expected structure (${detail}); the converter needs updating`, {
    exitCode: EXIT.MODEL,
  });
}

export async function loadTfjsGraph(distDir: string): Promise<TfjsGraph> {
  const modelPath = join(distDir, 'model.json');
  const json = JSON.parse(await readFile(modelPath, 'utf8')) as ModelJson;
  const rawNodes = json.modelTopology?.node;
  const manifest = json.weightsManifest;
  if (rawNodes === undefined || manifest === undefined) throw modelChanged(`${modelPath} lacks modelTopology.node or weightsManifest`);
  const nodes: TfNode[] = rawNodes.map((n) => ({name: n.name, op: n.op, inputs: n.input ?? [], attr: n.attr ?? {}}));

  const weights = new Map<string, TfWeight>();
  let weightBytes = 0;
  for (const group of manifest) {
    // A group's shards are one byte stream split into files; weights follow each other in it.
    const shards = await Promise.all(group.paths.map((p) => readFile(join(distDir, p))));
    const buffer = Buffer.concat(shards);
    weightBytes += buffer.length;
    let offset = 0;
    for (const entry of group.weights) {
      if (entry.quantization !== undefined) throw modelChanged(`weight ${entry.name} is quantized`);
      if (entry.dtype !== 'float32' && entry.dtype !== 'int32') throw modelChanged(`weight ${entry.name} has dtype ${entry.dtype}`);
      const count = entry.shape.reduce((a, b) => a * b, 1);
      const bytes = count * 4;
      if (offset + bytes > buffer.length) throw modelChanged(`weight shards end before ${entry.name}`);
      // Copy into a fresh buffer: shard bytes need not be 4-byte aligned inside the concatenation.
      const copy = buffer.buffer.slice(buffer.byteOffset + offset, buffer.byteOffset + offset + bytes);
      const data = entry.dtype === 'float32' ? new Float32Array(copy) : new Int32Array(copy);
      weights.set(entry.name, {name: entry.name, dtype: entry.dtype, shape: entry.shape, data});
      offset += bytes;
    }
    if (offset !== buffer.length) throw modelChanged(`weight shards hold ${buffer.length} bytes, manifest describes ${offset}`);
  }
  return new TfjsGraph(nodes, weights, weightBytes);
}
