/**
 * src/onnx: building ONNX graphs in code (the built-in model's converter, test fixtures, and the
 * search graphs of src/vectors to come). Imports nothing of sbertkit's.
 *
 * A small typed writer for ONNX graphs. The built-in model converter (src/models/builtin) and the test
 * fixtures (test/helpers) both build graphs with it, so there is exactly one place that knows how
 * onnx-proto wants tensors, attributes and value infos spelled.
 */
import {createRequire} from 'node:module';
import type {onnx as OnnxNs} from 'onnx-proto';

// onnx-proto is CommonJS; load it through require so this module stays ESM.
const require = createRequire(import.meta.url);
const {onnx} = require('onnx-proto') as {onnx: typeof OnnxNs};

export type ElemType = 'float32' | 'int64' | 'int32' | 'bool';

const DATA_TYPE: Record<ElemType, number> = {float32: 1, int32: 6, int64: 7, bool: 9};

/** A dimension is a fixed size or a symbolic name such as "batch". */
export type Dim = number | string;

export type AttrValue = number | string | number[] | Float32Array | {tensor: TensorInit} | {floats: number[]} | {float: number};

export interface TensorInit {
  type: ElemType;
  dims: number[];
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array | number[];
}

function tensorProto(name: string, t: TensorInit): OnnxNs.ITensorProto {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) throw new Error(`tensor ${name}: ${t.data.length} values for dims [${t.dims}]`);
  let raw: Uint8Array;
  if (t.type === 'float32') raw = new Uint8Array(Float32Array.from(t.data as ArrayLike<number>).buffer);
  else if (t.type === 'int32') raw = new Uint8Array(Int32Array.from(t.data as ArrayLike<number>).buffer);
  else if (t.type === 'int64') {
    const src = t.data;
    const out = new BigInt64Array(count);
    for (let i = 0; i < count; i++) out[i] = BigInt(src[i] as number | bigint);
    raw = new Uint8Array(out.buffer);
  } else raw = Uint8Array.from(t.data as ArrayLike<number>, (v) => (v ? 1 : 0));
  return {name, dims: t.dims, dataType: DATA_TYPE[t.type], rawData: raw};
}

function valueInfo(name: string, type: ElemType, dims: Dim[]): OnnxNs.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DATA_TYPE[type],
        shape: {dim: dims.map((d) => (typeof d === 'number' ? {dimValue: d} : {dimParam: d}))},
      },
    },
  };
}

function attribute(name: string, v: AttrValue): OnnxNs.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') {
    return Number.isInteger(v) ? {name, type: T.INT, i: v} : {name, type: T.FLOAT, f: v};
  }
  if (typeof v === 'string') return {name, type: T.STRING, s: new TextEncoder().encode(v)};
  if (Array.isArray(v)) return {name, type: T.INTS, ints: v};
  if (v instanceof Float32Array) return {name, type: T.FLOATS, floats: Array.from(v)};
  if ('float' in v) return {name, type: T.FLOAT, f: v.float};
  if ('floats' in v) return {name, type: T.FLOATS, floats: v.floats};
  return {name, type: T.TENSOR, t: tensorProto(`${name}_value`, v.tensor)};
}

export class GraphBuilder {
  private readonly nodes: OnnxNs.INodeProto[] = [];
  private readonly initializers: OnnxNs.ITensorProto[] = [];
  private readonly inputs: OnnxNs.IValueInfoProto[] = [];
  private readonly outputs: OnnxNs.IValueInfoProto[] = [];
  private counter = 0;
  /** Operator domains other than ONNX's own that nodes use (com.microsoft contrib ops), for the opset imports. */
  private readonly domains = new Set<string>();

  constructor(private readonly name = 'graph') {}

  input(name: string, type: ElemType, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: ElemType, dims: Dim[]): string {
    this.outputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Adds a weight/constant and returns its name. */
  initializer(name: string, t: TensorInit): string {
    this.initializers.push(tensorProto(name, t));
    return name;
  }

  /** Shorthand for int64 1-D constants (shapes, axes). */
  ints(name: string, values: number[]): string {
    return this.initializer(name, {type: 'int64', dims: [values.length], data: values});
  }

  /** Shorthand for a float scalar constant. */
  scalar(name: string, value: number): string {
    return this.initializer(name, {type: 'float32', dims: [], data: [value]});
  }

  /**
   * Adds a node. Returns its output names; pass `outputs` to name them, else they are generated.
   * Use an empty string for an omitted optional input. `domain` names a non-ONNX operator set, such as
   * 'com.microsoft' for onnxruntime's contrib ops; the model then imports it (version 1).
   */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs?: string[] | number, domain?: string): string[] {
    const id = this.counter++;
    const outs = Array.isArray(outputs) ? outputs : Array.from({length: outputs ?? 1}, (_, k) => `${op}_${id}_out${k}`);
    if (domain !== undefined) this.domains.add(domain);
    this.nodes.push({
      name: `${op}_${id}`,
      opType: op,
      ...(domain === undefined ? {} : {domain}),
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** Single-output node helper. */
  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string, domain?: string): string {
    return this.node(op, inputs, attrs, output === undefined ? 1 : [output], domain)[0]!;
  }

  /** Serializes the model (IR 8, default-domain opset given) to protobuf bytes. */
  toBytes(opset = 17, producer = 'sbertkit'): Uint8Array {
    const model: OnnxNs.IModelProto = {
      irVersion: 8,
      producerName: producer,
      opsetImport: [{domain: '', version: opset}, ...[...this.domains].map((domain) => ({domain, version: 1}))],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
    return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
  }
}
