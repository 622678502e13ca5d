/**
 * Dynamic int8 quantization of an fp32 ONNX model's MatMul and Gemm weights, the rewrite
 * onnxruntime.quantization.quantize_dynamic makes (QOperator format, int8 weights), in standard ONNX
 * ops only. Pure: a ModelProto in, a new ModelProto out; tensors not rewritten are shared, not copied.
 *
 * For every MatMul (and Gemm) whose B is a constant float32 2-D initializer [K, N] of at least
 * `minWeightElements` values:
 *
 *   B           -> Bq int8 [K, N], symmetric: scale = max|B| / 127 (per tensor, or per column n with
 *                  perChannel), zero point 0, Bq = saturate(round_half_even(B / scale)) (QuantizeLinear)
 *   A           -> DynamicQuantizeLinear(A) = (Aq uint8, a_scale, a_zero_point), once per activation
 *   MatMul(A,B) -> Mul(Cast<float>(MatMulInteger(Aq, Bq, a_zero_point, 0)), Mul(a_scale, scale))
 *
 * which ONNX Runtime's CPU provider fuses into MatMulIntegerToFloat (with a following bias Add) or
 * DynamicQuantizeMatMul. Gemm becomes the same MatMul form: transB is applied to the constant while
 * quantizing, transA by a Transpose, alpha is folded into the weight scale and beta into C (or a Mul),
 * and C is added after the product.
 *
 * Not rewritten (and reported): MatMuls whose B is computed or a graph input (an overridable
 * initializer), weights that are not float32 2-D, and weights under `minWeightElements`. Nodes inside
 * subgraphs (If, Loop) are left alone. DynamicQuantizeLinear needs opset 11: older models are refused
 * rather than raised, because the opset 10 -> 11 step changed the inputs of ops such as Clip, Pad and
 * Slice, so raising the import alone would change what the rest of the graph means.
 */
import {EXIT, SbertkitError} from '../errors.js';
import {DATA_TYPE, defaultOpset, floatValues, int, isDefaultDomain, isExternal, onnx, tensorDims, tensorProto, type OnnxNs} from './model-proto.js';

/** First opset with DynamicQuantizeLinear (MatMulInteger has been there since 10). */
export const MIN_QUANTIZE_OPSET = 11;

/**
 * Weights with fewer values stay float32: four extra nodes and a pass over the activation cost more
 * than a product this small saves, and 1,024 values are 3 KiB of file. Every dense layer of a
 * transformer is far above it (MiniLM's smallest is 384 x 384); attention-free tiny heads are not.
 */
export const MIN_WEIGHT_ELEMENTS = 1024;

export interface DynamicQuantizeOptions {
  /** One scale per output column instead of one per weight (default false). */
  perChannel?: boolean;
  /** Weights with fewer values are not quantized (default MIN_WEIGHT_ELEMENTS). */
  minWeightElements?: number;
  /** Extra metadata_props entries (replacing existing keys). */
  metadata?: Record<string, string>;
}

export type SkipReason = 'weight-not-constant' | 'weight-not-2d-float32' | 'weight-too-small';

export interface SkippedNode {
  node: string;
  opType: string;
  reason: SkipReason;
}

export interface DynamicQuantizeReport {
  /** MatMul and Gemm nodes rewritten. */
  quantizedNodes: number;
  matMul: number;
  gemm: number;
  /** Distinct int8 weight initializers written (a weight shared by several nodes counts once). */
  weights: number;
  /** Float32 weight values replaced by int8 ones. */
  weightValues: number;
  /** DynamicQuantizeLinear nodes (one per distinct activation). */
  activations: number;
  perChannel: boolean;
  opset: number;
  skipped: SkippedNode[];
}

export interface QuantizedModel {
  model: OnnxNs.ModelProto;
  report: DynamicQuantizeReport;
}

const ATTR = onnx.AttributeProto.AttributeType;

export function quantizeDynamic(model: OnnxNs.IModelProto, options: DynamicQuantizeOptions = {}): QuantizedModel {
  const perChannel = options.perChannel ?? false;
  const minElements = options.minWeightElements ?? MIN_WEIGHT_ELEMENTS;
  const graph = model.graph;
  if (!graph) throw new SbertkitError('the model has no graph', {exitCode: EXIT.MODEL});
  const opset = defaultOpset(model);
  if (opset === undefined) throw new SbertkitError('the model imports no default ONNX opset', {exitCode: EXIT.MODEL});
  if (opset < MIN_QUANTIZE_OPSET) {
    throw new SbertkitError(
      `opset ${opset} is below ${MIN_QUANTIZE_OPSET}, the first with DynamicQuantizeLinear; re-export the model with opset >= ${MIN_QUANTIZE_OPSET} ` +
        '(raising the opset of an existing graph can change the meaning of its other ops)',
      {exitCode: EXIT.MODEL},
    );
  }

  const rewriter = new Rewriter(graph, perChannel, minElements);
  const nodes: OnnxNs.INodeProto[] = [];
  for (const node of graph.node ?? []) nodes.push(...rewriter.rewrite(node));

  const replaced = rewriter.replacedWeights(nodes, graph);
  const initializer = [...(graph.initializer ?? []).filter((t) => !replaced.has(t.name ?? '')), ...rewriter.newInitializers];
  const report: DynamicQuantizeReport = {...rewriter.counts, perChannel, opset, skipped: rewriter.skipped};
  const metadata: Record<string, string> = {
    'sbertkit.quantization': 'dynamic int8 (DynamicQuantizeLinear uint8 activations, MatMulInteger, symmetric int8 weights)',
    'sbertkit.quantization.per_channel': String(perChannel),
    'sbertkit.quantization.nodes': String(report.quantizedNodes),
    ...options.metadata,
  };
  const metadataProps = [...(model.metadataProps ?? []).filter((p) => !Object.hasOwn(metadata, p.key ?? '')), ...Object.entries(metadata).map(([key, value]) => ({key, value}))];
  const out = onnx.ModelProto.create({...model, graph: onnx.GraphProto.create({...graph, node: nodes, initializer}), metadataProps});
  return {model: out, report};
}

interface QuantizedWeight {
  /** int8 [K, N] initializer. */
  values: string;
  /** int8 zero point(s): a scalar, or [N] per channel. */
  zeroPoint: string;
  /** float scale(s), same shape as the zero point. */
  scale: string;
  scales: Float32Array;
  cols: number;
}

interface QuantizedActivation {
  values: string;
  scale: string;
  zeroPoint: string;
}

/** Rewrites one graph's nodes, remembering what it shared and created. */
class Rewriter {
  readonly newInitializers: OnnxNs.ITensorProto[] = [];
  readonly skipped: SkippedNode[] = [];
  readonly counts = {quantizedNodes: 0, matMul: 0, gemm: 0, weights: 0, weightValues: 0, activations: 0};
  private readonly initializers = new Map<string, OnnxNs.ITensorProto>();
  private readonly graphInputs: Set<string>;
  private readonly usedNames = new Set<string>();
  private readonly weights = new Map<string, QuantizedWeight>();
  private readonly activations = new Map<string, QuantizedActivation>();
  private readonly transposed = new Map<string, string>();
  /** Float weights whose consumers were rewritten; removed if nothing else reads them. */
  private readonly quantizedSources = new Set<string>();
  private nodeCounter = 0;

  constructor(
    graph: OnnxNs.IGraphProto,
    private readonly perChannel: boolean,
    private readonly minElements: number,
  ) {
    for (const t of graph.initializer ?? []) this.initializers.set(t.name ?? '', t);
    this.graphInputs = new Set((graph.input ?? []).map((i) => i.name ?? ''));
    collectNames(graph, this.usedNames);
  }

  rewrite(node: OnnxNs.INodeProto): OnnxNs.INodeProto[] {
    const op = node.opType;
    if (!isDefaultDomain(node.domain) || (op !== 'MatMul' && op !== 'Gemm')) return [node];
    const label = node.name || `${op} -> ${node.output?.[0] ?? '?'}`;
    const weightName = node.input?.[1] ?? '';
    const weight = this.initializers.get(weightName);
    const skip = (reason: SkipReason): OnnxNs.INodeProto[] => {
      this.skipped.push({node: label, opType: op, reason});
      return [node];
    };
    // An initializer listed among the graph inputs is only a default: the caller may feed another B.
    if (weight === undefined || this.graphInputs.has(weightName)) return skip('weight-not-constant');
    if (weight.dataType !== DATA_TYPE.FLOAT || tensorDims(weight).length !== 2) return skip('weight-not-2d-float32');
    if (isExternal(weight)) {
      throw new SbertkitError(`weight ${weightName} is stored as external data; load the model with its data inlined first`, {exitCode: EXIT.MODEL});
    }
    const [rows, cols] = tensorDims(weight) as [number, number];
    if (rows * cols < this.minElements) return skip('weight-too-small');

    const out: OnnxNs.INodeProto[] = [];
    const base = node.name || `${op}_${this.nodeCounter}`;
    this.nodeCounter++;
    const isGemm = op === 'Gemm';
    const transA = isGemm && intAttr(node, 'transA', 0) !== 0;
    const transB = isGemm && intAttr(node, 'transB', 0) !== 0;
    const alpha = isGemm ? floatAttr(node, 'alpha', 1) : 1;
    const beta = isGemm ? floatAttr(node, 'beta', 1) : 1;
    const c = isGemm ? (node.input?.[2] ?? '') : '';
    const output = node.output![0]!;

    let a = node.input![0]!;
    if (transA) a = this.transpose(a, base, out);
    const activation = this.quantizeActivation(a, base, out);
    const w = this.quantizeWeight(weightName, weight, transB);
    this.quantizedSources.add(weightName);
    const scale = alpha === 1 ? w.scale : this.scaledScale(w, alpha);

    const product = this.name(`${base}_MatMulInteger_output`);
    const cast = this.name(`${base}_cast_output`);
    const scales = this.name(`${base}_scales_mul_output`);
    const hasBias = c !== '' && beta !== 0;
    const scaled = hasBias ? this.name(`${base}_product`) : output;
    out.push(
      this.node('MatMulInteger', [activation.values, w.values, activation.zeroPoint, w.zeroPoint], [product], `${base}_quant`),
      this.node('Cast', [product], [cast], `${base}_cast`, [{name: 'to', type: ATTR.INT, i: DATA_TYPE.FLOAT}]),
      // ORT fuses Cast -> Mul(., Mul(a_scale, b_scale)) only when this Mul feeds that one product alone.
      this.node('Mul', [activation.scale, scale], [scales], `${base}_scales_mul`),
      this.node('Mul', [cast, scales], [scaled], `${base}_output_quantized`),
    );
    if (hasBias) out.push(this.node('Add', [scaled, this.scaledBias(c, beta, base, out)], [output], `${base}_bias_add`));
    this.counts.quantizedNodes++;
    if (isGemm) this.counts.gemm++;
    else this.counts.matMul++;
    return out;
  }

  /** The float weights that were quantized and that no node or graph output reads any more. */
  replacedWeights(nodes: OnnxNs.INodeProto[], graph: OnnxNs.IGraphProto): Set<string> {
    const read = new Set<string>((graph.output ?? []).map((o) => o.name ?? ''));
    collectInputs(nodes, read);
    return new Set([...this.quantizedSources].filter((name) => !read.has(name)));
  }

  private quantizeActivation(a: string, base: string, out: OnnxNs.INodeProto[]): QuantizedActivation {
    let q = this.activations.get(a);
    if (q === undefined) {
      q = {values: this.name(`${a}_quantized`), scale: this.name(`${a}_scale`), zeroPoint: this.name(`${a}_zero_point`)};
      out.push(this.node('DynamicQuantizeLinear', [a], [q.values, q.scale, q.zeroPoint], `${base}_input_quantize`));
      this.activations.set(a, q);
      this.counts.activations++;
    }
    return q;
  }

  private transpose(a: string, base: string, out: OnnxNs.INodeProto[]): string {
    let t = this.transposed.get(a);
    if (t === undefined) {
      t = this.name(`${a}_transposed`);
      out.push(this.node('Transpose', [a], [t], `${base}_transpose_a`, [{name: 'perm', type: ATTR.INTS, ints: [1, 0]}]));
      this.transposed.set(a, t);
    }
    return t;
  }

  private quantizeWeight(name: string, tensor: OnnxNs.ITensorProto, transB: boolean): QuantizedWeight {
    const key = `${transB ? 'T' : 'N'}:${name}`;
    const cached = this.weights.get(key);
    if (cached !== undefined) return cached;
    const [r, c] = tensorDims(tensor) as [number, number];
    // The stored matrix is [K, N], or [N, K] under transB; the int8 one is always [K, N].
    const [k, n] = transB ? [c, r] : [r, c];
    const at = transB ? (row: number, col: number) => col * k + row : (row: number, col: number) => row * n + col;
    const q = quantizeWeightMatrix(floatValues(tensor), k, n, at, this.perChannel);
    const scalarDims = this.perChannel ? [n] : [];
    const values = this.name(`${name}_quantized`);
    const scale = this.name(`${name}_scale`);
    const zeroPoint = this.name(`${name}_zero_point`);
    this.newInitializers.push(
      tensorProto(values, DATA_TYPE.INT8, [k, n], q.values),
      tensorProto(scale, DATA_TYPE.FLOAT, scalarDims, q.scales),
      tensorProto(zeroPoint, DATA_TYPE.INT8, scalarDims, new Int8Array(q.scales.length)),
    );
    const result = {values, zeroPoint, scale, scales: q.scales, cols: n};
    this.weights.set(key, result);
    this.counts.weights++;
    this.counts.weightValues += k * n;
    return result;
  }

  /** Gemm's alpha folded into the weight scale: alpha·(A·B) = (a_scale·alpha·scale)·(Aq·Bq). */
  private scaledScale(w: QuantizedWeight, alpha: number): string {
    const name = this.name(`${w.scale}_alpha`);
    const dims = this.perChannel ? [w.cols] : [];
    this.newInitializers.push(tensorProto(name, DATA_TYPE.FLOAT, dims, w.scales.map((s) => Math.fround(s * alpha))));
    return name;
  }

  /** beta·C: C itself when beta is 1, a folded initializer when C is constant, else a Mul. */
  private scaledBias(c: string, beta: number, base: string, out: OnnxNs.INodeProto[]): string {
    if (beta === 1) return c;
    const tensor = this.initializers.get(c);
    if (tensor !== undefined && !this.graphInputs.has(c) && tensor.dataType === DATA_TYPE.FLOAT && !isExternal(tensor)) {
      const name = this.name(`${c}_beta`);
      this.newInitializers.push(tensorProto(name, DATA_TYPE.FLOAT, tensorDims(tensor), floatValues(tensor).map((v) => Math.fround(v * beta))));
      return name;
    }
    const betaName = this.name(`${base}_beta`);
    this.newInitializers.push(tensorProto(betaName, DATA_TYPE.FLOAT, [], Float32Array.of(beta)));
    const scaled = this.name(`${base}_c_scaled`);
    out.push(this.node('Mul', [c, betaName], [scaled], `${base}_beta_mul`));
    return scaled;
  }

  private node(opType: string, input: string[], output: string[], name: string, attribute: OnnxNs.IAttributeProto[] = []): OnnxNs.INodeProto {
    return onnx.NodeProto.create({opType, input, output, name: this.name(name), domain: '', attribute});
  }

  /** `base`, or `base_1`, `base_2`... : a name no tensor or node in the model has yet. */
  private name(base: string): string {
    let name = base;
    for (let i = 1; this.usedNames.has(name); i++) name = `${base}_${i}`;
    this.usedNames.add(name);
    return name;
  }
}

export interface QuantizedMatrix {
  /** int8 [K, N] row-major. */
  values: Int8Array;
  /** One scale, or one per column. */
  scales: Float32Array;
}

/**
 * Symmetric int8 quantization of a [K, N] matrix read through `at(row, col)`: scale = max|w| / 127
 * (1 for an all-zero range, as onnxruntime does), q = saturate(round_half_even(w / scale)) in float32
 * arithmetic, the QuantizeLinear formula with zero point 0.
 */
export function quantizeWeightMatrix(data: Float32Array, k: number, n: number, at: (row: number, col: number) => number, perChannel: boolean): QuantizedMatrix {
  const scales = new Float32Array(perChannel ? n : 1);
  if (perChannel) {
    for (let col = 0; col < n; col++) {
      let max = 0;
      for (let row = 0; row < k; row++) max = Math.max(max, Math.abs(data[at(row, col)]!));
      scales[col] = symmetricScale(max);
    }
  } else {
    let max = 0;
    for (let i = 0; i < data.length; i++) max = Math.max(max, Math.abs(data[i]!));
    scales[0] = symmetricScale(max);
  }
  const values = new Int8Array(k * n);
  for (let row = 0; row < k; row++) {
    for (let col = 0; col < n; col++) {
      const scale = scales[perChannel ? col : 0]!;
      values[row * n + col] = Math.max(-127, Math.min(127, roundHalfEven(Math.fround(data[at(row, col)]! / scale))));
    }
  }
  return {values, scales};
}

function symmetricScale(maxAbs: number): number {
  const scale = Math.fround(maxAbs / 127);
  return scale > 0 && Number.isFinite(scale) ? scale : 1;
}

/** Round to nearest, ties to even (ONNX's rounding for QuantizeLinear and DynamicQuantizeLinear). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

function attr(node: OnnxNs.INodeProto, name: string): OnnxNs.IAttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

function intAttr(node: OnnxNs.INodeProto, name: string, fallback: number): number {
  const a = attr(node, name);
  return a === undefined ? fallback : int(a.i);
}

function floatAttr(node: OnnxNs.INodeProto, name: string, fallback: number): number {
  const a = attr(node, name);
  return a === undefined ? fallback : (a.f ?? fallback);
}

function subgraphs(node: OnnxNs.INodeProto): OnnxNs.IGraphProto[] {
  return (node.attribute ?? []).flatMap((a) => [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]);
}

/** Every tensor and node name in a graph and its subgraphs (new names must not shadow any). */
function collectNames(graph: OnnxNs.IGraphProto, names: Set<string>): void {
  for (const list of [graph.input, graph.output, graph.valueInfo, graph.initializer]) for (const item of list ?? []) names.add(item.name ?? '');
  for (const node of graph.node ?? []) {
    names.add(node.name ?? '');
    for (const n of [...(node.input ?? []), ...(node.output ?? [])]) names.add(n);
    for (const g of subgraphs(node)) collectNames(g, names);
  }
}

/** Every name a node reads, subgraphs included (they may read outer-scope initializers). */
function collectInputs(nodes: OnnxNs.INodeProto[], read: Set<string>): void {
  for (const node of nodes) {
    for (const n of node.input ?? []) read.add(n);
    for (const g of subgraphs(node)) {
      collectInputs(g.node ?? [], read);
      for (const o of g.output ?? []) read.add(o.name ?? '');
    }
  }
}
