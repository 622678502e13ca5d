/**
 * Reading and writing whole ONNX models (ModelProto) with onnx-proto, and reading their tensors: what a
 * graph rewrite (quantize.ts) needs. GraphBuilder writes new graphs; this module opens existing ones.
 */
import {createRequire} from 'node:module';
import type {onnx as OnnxNs} from 'onnx-proto';
import {EXIT, SbertkitError} from '../errors.js';

// onnx-proto is CommonJS; load it through require so this module stays ESM.
const require = createRequire(import.meta.url);
export const onnx = (require('onnx-proto') as {onnx: typeof OnnxNs}).onnx;
export type {OnnxNs};

/** TensorProto.DataType values used here. */
export const DATA_TYPE = {FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7} as const;

/** TensorProto.DataLocation.EXTERNAL: the values sit in another file. */
const EXTERNAL = 1;

/** The ONNX default operator set goes by two names. */
export function isDefaultDomain(domain: string | null | undefined): boolean {
  return domain === undefined || domain === null || domain === '' || domain === 'ai.onnx';
}

/** int64 fields decode to Long objects (protobufjs with `long` installed) or numbers. */
export function int(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'object' && value !== null && 'toNumber' in value) return (value as {toNumber(): number}).toNumber();
  return Number(value ?? 0);
}

/** The opset version of the default domain, or undefined when the model imports none. */
export function defaultOpset(model: OnnxNs.IModelProto): number | undefined {
  const entry = model.opsetImport?.find((o) => isDefaultDomain(o.domain));
  return entry === undefined ? undefined : int(entry.version);
}

/**
 * Decodes ONNX bytes. Protobuf decoding accepts many byte strings that are not models (an empty file
 * decodes to an empty message), so a model must also have a graph with nodes and an opset import.
 * `file` names the source in errors (exit 3: a model problem).
 */
export function decodeModel(bytes: Uint8Array, file: string): OnnxNs.ModelProto {
  let model: OnnxNs.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new SbertkitError(`not an ONNX model (protobuf decoding failed: ${(error as Error).message})`, {file, exitCode: EXIT.MODEL});
  }
  if (!model.graph || (model.graph.node?.length ?? 0) === 0 || (model.opsetImport?.length ?? 0) === 0) {
    throw new SbertkitError('not an ONNX model (no graph nodes or opset import)', {file, exitCode: EXIT.MODEL});
  }
  return model;
}

export function encodeModel(model: OnnxNs.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** True when the tensor's values are stored in a separate file (`model.onnx_data`). */
export function isExternal(tensor: OnnxNs.ITensorProto): boolean {
  return tensor.dataLocation === EXTERNAL || (tensor.externalData?.length ?? 0) > 0;
}

export function tensorDims(tensor: OnnxNs.ITensorProto): number[] {
  return (tensor.dims ?? []).map(int);
}

/** The values of a float32 tensor stored in the model (raw_data, little-endian, or float_data). */
export function floatValues(tensor: OnnxNs.ITensorProto): Float32Array {
  if (tensor.dataType !== DATA_TYPE.FLOAT) throw new Error(`tensor ${tensor.name} is not float32 (data type ${tensor.dataType})`);
  if (isExternal(tensor)) throw new Error(`tensor ${tensor.name} has external data`);
  const count = tensorDims(tensor).reduce((a, b) => a * b, 1);
  const raw = tensor.rawData;
  let values: Float32Array;
  if (raw !== null && raw !== undefined && raw.length > 0) {
    // Copied: the decoded bytes are a view into the model buffer at any alignment.
    values = new Float32Array(raw.length / 4);
    new Uint8Array(values.buffer).set(raw);
  } else {
    values = Float32Array.from(tensor.floatData ?? []);
  }
  if (values.length !== count) throw new Error(`tensor ${tensor.name} holds ${values.length} values for dims [${tensorDims(tensor)}]`);
  return values;
}

/** A tensor proto for raw typed data. */
export function tensorProto(name: string, dataType: number, dims: number[], data: Float32Array | Int8Array | Uint8Array): OnnxNs.TensorProto {
  return onnx.TensorProto.create({name, dataType, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength)});
}
