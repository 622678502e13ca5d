/**
 * The dynamic int8 rewrite against a reference written here from the ONNX operator spec: weights
 * quantized symmetrically (scale = max|w| / 127, zero point 0, QuantizeLinear's round-half-even),
 * activations by DynamicQuantizeLinear's formulas, an integer product, then dequantized. ONNX Runtime
 * runs the rewritten graph both unoptimized (the standard ops as written) and fully optimized (its
 * fused integer kernels), and both must equal the reference within float rounding, for MatMul and
 * Gemm (bias, alpha, beta, transA, transB), per tensor and per channel.
 */
import assert from 'node:assert/strict';
import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {describe, test} from 'node:test';
import type * as Ort from 'onnxruntime-node';
import {SbertkitError} from '../../src/errors.js';
import {GraphBuilder, type AttrValue} from '../../src/onnx/graph-builder.js';
import {decodeModel, encodeModel, floatValues, type OnnxNs} from '../../src/onnx/model-proto.js';
import {quantizeDynamic, roundHalfEven, type DynamicQuantizeOptions} from '../../src/onnx/quantize.js';
import {loadOrt} from '../../src/onnx/runtime.js';
import {TINY_BERT, buildBertOnnx, makeBertWeights} from '../helpers/bert-fixture.js';
import {mulberry32} from '../helpers/prng.js';
import {tempDir} from '../helpers/tmp.js';

// ---------------------------------------------------------------------------------------------
// The reference, from the spec

/** Ties to even, written without Math.round so it does not share the product's trick. */
function nearestEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** DynamicQuantizeLinear (opset 11): uint8, range widened to include 0. */
function dynamicQuantizeLinear(x: Float32Array): {q: Uint8Array; scale: number; zeroPoint: number} {
  let min = 0;
  let max = 0;
  for (const v of x) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const scale = Math.fround(Math.fround(max - min) / 255);
  const zeroPoint = clamp(nearestEven(Math.fround(0 - min / scale)), 0, 255);
  const q = Uint8Array.from(x, (v) => clamp(nearestEven(Math.fround(v / scale)) + zeroPoint, 0, 255));
  return {q, scale, zeroPoint};
}

/** Symmetric int8 weights of W [K, N]: one scale, or one per column. */
function quantizeWeights(w: Float32Array, k: number, n: number, perChannel: boolean): {q: Int8Array; scales: number[]} {
  const scales = Array.from({length: perChannel ? n : 1}, (_, c) => {
    let max = 0;
    for (let r = 0; r < k; r++) for (let cc = 0; cc < n; cc++) if (!perChannel || cc === c) max = Math.max(max, Math.abs(w[r * n + cc]!));
    return Math.fround(max / 127);
  });
  const q = new Int8Array(k * n);
  for (let r = 0; r < k; r++) for (let c = 0; c < n; c++) q[r * n + c] = clamp(nearestEven(Math.fround(w[r * n + c]! / scales[perChannel ? c : 0]!)), -127, 127);
  return {q, scales};
}

/** y[m, n] = (a_scale · w_scale[n]) · Σ_k (xq[m,k] − zp) · wq[k,n], in float64. */
function quantizedProduct(x: Float32Array, m: number, k: number, w: Float32Array, n: number, perChannel: boolean): Float64Array {
  const a = dynamicQuantizeLinear(x);
  const b = quantizeWeights(w, k, n, perChannel);
  const y = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let t = 0; t < k; t++) acc += (a.q[i * k + t]! - a.zeroPoint) * b.q[t * n + j]!;
      y[i * n + j] = acc * a.scale * b.scales[perChannel ? j : 0]!;
    }
  }
  return y;
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Graphs and runs

const random = (seed: number, count: number, lo: number, hi: number): Float32Array => {
  const rand = mulberry32(seed);
  return Float32Array.from({length: count}, () => lo + (hi - lo) * rand());
};

interface Case {
  label: string;
  op: 'MatMul' | 'Gemm';
  /** Rows of A (after transA); MatMul runs them as [2, m/2, K] when batched. */
  m: number;
  k: number;
  n: number;
  batched?: boolean;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
  /** Gemm's C: an initializer [N], a graph input [M, N], or none. */
  bias?: 'constant' | 'input';
  /** Activations in [0, 4): the zero point is then 0. */
  positive?: boolean;
}

interface Built {
  bytes: Uint8Array;
  feeds: Record<string, {data: Float32Array; dims: number[]}>;
  /** The reference output. */
  expected: (perChannel: boolean) => Float64Array;
  /** The float32 product, for the quantization-error sanity check. */
  exact: Float64Array;
}

function buildCase(c: Case): Built {
  const g = new GraphBuilder('case');
  const a = random(11, c.m * c.k, c.positive ? 0 : -2, c.positive ? 4 : 2); // [M, K] as used
  const w = random(12, c.k * c.n, -0.3, 0.3); // [K, N] as used
  const aStored = c.transA ? transpose(a, c.m, c.k) : a;
  const aDims = c.transA ? [c.k, c.m] : c.batched ? [2, c.m / 2, c.k] : [c.m, c.k];
  g.input('x', 'float32', aDims);
  const wName = g.initializer('w', {type: 'float32', dims: c.transB ? [c.n, c.k] : [c.k, c.n], data: c.transB ? transpose(w, c.k, c.n) : w});
  const feeds: Built['feeds'] = {x: {data: aStored, dims: aDims}};
  const alpha = c.alpha ?? 1;
  const beta = c.beta ?? 1;
  let bias: Float32Array | undefined;
  let biasRow = (_i: number, j: number): number => bias![j]!;
  const inputs = ['x', wName];
  if (c.bias === 'constant') {
    bias = random(13, c.n, -1, 1);
    inputs.push(g.initializer('c', {type: 'float32', dims: [c.n], data: bias}));
  } else if (c.bias === 'input') {
    bias = random(14, c.m * c.n, -1, 1);
    biasRow = (i, j) => bias![i * c.n + j]!;
    inputs.push(g.input('c', 'float32', [c.m, c.n]));
    feeds.c = {data: bias, dims: [c.m, c.n]};
  }
  const attrs: Record<string, AttrValue> = {};
  if (c.op === 'Gemm') {
    if (c.transA) attrs.transA = 1;
    if (c.transB) attrs.transB = 1;
    if (c.alpha !== undefined) attrs.alpha = {float: c.alpha};
    if (c.beta !== undefined) attrs.beta = {float: c.beta};
  }
  g.op(c.op, inputs, attrs, 'y');
  g.output('y', 'float32', c.batched ? [2, c.m / 2, c.n] : [c.m, c.n]);

  const withBias = (y: Float64Array): Float64Array => {
    for (let i = 0; i < c.m; i++) for (let j = 0; j < c.n; j++) y[i * c.n + j] = alpha * y[i * c.n + j]! + (bias === undefined ? 0 : beta * biasRow(i, j));
    return y;
  };
  const exact = new Float64Array(c.m * c.n);
  for (let i = 0; i < c.m; i++) for (let j = 0; j < c.n; j++) for (let t = 0; t < c.k; t++) exact[i * c.n + j] += a[i * c.k + t]! * w[t * c.n + j]!;
  return {bytes: g.toBytes(17), feeds, expected: (perChannel) => withBias(quantizedProduct(a, c.m, c.k, w, c.n, perChannel)), exact: withBias(exact)};
}

async function run(bytes: Uint8Array, feeds: Built['feeds'], level: 'disabled' | 'all'): Promise<Float32Array> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(bytes, {executionProviders: ['cpu'], graphOptimizationLevel: level, intraOpNumThreads: 1});
  try {
    const tensors: Record<string, Ort.Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) tensors[name] = new ort.Tensor('float32', f.data, f.dims);
    const out = await session.run(tensors);
    return out[session.outputNames[0]!]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

function quantized(bytes: Uint8Array, options: DynamicQuantizeOptions = {}): {model: OnnxNs.ModelProto; bytes: Uint8Array} & ReturnType<typeof quantizeDynamic> {
  const result = quantizeDynamic(decodeModel(bytes, 'test.onnx'), options);
  return {...result, bytes: encodeModel(result.model)};
}

function opTypes(model: OnnxNs.IModelProto): string[] {
  return (model.graph?.node ?? []).map((n) => `${n.domain ? `${n.domain}.` : ''}${n.opType}`);
}

// ---------------------------------------------------------------------------------------------

const CASES: Case[] = [
  {label: 'MatMul 2-D', op: 'MatMul', m: 5, k: 48, n: 40},
  {label: 'MatMul 3-D input, activations >= 0', op: 'MatMul', m: 6, k: 64, n: 24, batched: true, positive: true},
  {label: 'Gemm with constant bias, transB', op: 'Gemm', m: 4, k: 40, n: 32, transB: true, bias: 'constant'},
  {label: 'Gemm without bias', op: 'Gemm', m: 3, k: 32, n: 48},
  {label: 'Gemm transA, alpha 0.5, beta 2, constant bias', op: 'Gemm', m: 4, k: 48, n: 32, transA: true, alpha: 0.5, beta: 2, bias: 'constant'},
  {label: 'Gemm transB, bias fed as an input, beta 0.25', op: 'Gemm', m: 4, k: 40, n: 40, transB: true, beta: 0.25, bias: 'input'},
];

describe('quantizeDynamic: outputs equal the spec reference', () => {
  for (const c of CASES) {
    for (const perChannel of [false, true]) {
      test(`${c.label}, ${perChannel ? 'per channel' : 'per tensor'}`, async () => {
        const built = buildCase(c);
        const q = quantized(built.bytes, {perChannel});
        assert.equal(q.report.quantizedNodes, 1);
        assert.deepEqual(q.report.skipped, []);
        // Standard ops only, and the float weight is gone.
        assert.ok(opTypes(q.model).every((op) => ['DynamicQuantizeLinear', 'MatMulInteger', 'Cast', 'Mul', 'Add', 'Transpose'].includes(op)), opTypes(q.model).join());
        assert.ok(!(q.model.graph!.initializer ?? []).some((t) => t.name === 'w'));
        const expected = built.expected(perChannel);
        for (const level of ['disabled', 'all'] as const) {
          const got = await run(q.bytes, built.feeds, level);
          assert.equal(got.length, expected.length);
          for (let i = 0; i < got.length; i++) {
            assert.ok(Math.abs(got[i]! - expected[i]!) <= 1e-5 * (1 + Math.abs(expected[i]!)), `${level}: output ${i}: ${got[i]} vs reference ${expected[i]}`);
          }
        }
        // And int8 is close to float: the error of 8-bit rounding, far below the outputs' spread.
        const got = await run(q.bytes, built.feeds, 'all');
        const spread = Math.max(...built.exact.map(Math.abs));
        const error = Math.max(...got.map((v, i) => Math.abs(v - built.exact[i]!)));
        assert.ok(error < 0.03 * spread, `int8 error ${error} vs output spread ${spread}`);
      });
    }
  }

  test('the int8 weights and scales are the symmetric ones, transposed to [K, N] under transB', () => {
    const c: Case = {label: '', op: 'Gemm', m: 2, k: 40, n: 32, transB: true};
    for (const perChannel of [false, true]) {
      const q = quantized(buildCase(c).bytes, {perChannel});
      const byName = new Map((q.model.graph!.initializer ?? []).map((t) => [t.name!, t]));
      const w = random(12, c.k * c.n, -0.3, 0.3);
      const want = quantizeWeights(w, c.k, c.n, perChannel);
      const values = byName.get('w_quantized')!;
      assert.deepEqual(values.dims!.map(Number), [c.k, c.n]);
      assert.deepEqual(Array.from(new Int8Array(Uint8Array.from(values.rawData!).buffer)), Array.from(want.q));
      assert.deepEqual(Array.from(floatValues(byName.get('w_scale')!)), want.scales);
      assert.deepEqual(Array.from(new Int8Array(Uint8Array.from(byName.get('w_zero_point')!.rawData!).buffer)), new Array(want.scales.length).fill(0));
    }
  });
});

describe('quantizeDynamic: what is left alone', () => {
  test('a MatMul whose B is computed, fed, or an overridable initializer is not rewritten', async () => {
    const g = new GraphBuilder();
    g.input('x', 'float32', [2, 64]);
    g.input('b', 'float32', [64, 32]);
    g.input('d', 'float32', [64, 32]); // also an initializer below: only a default
    g.initializer('d', {type: 'float32', dims: [64, 32], data: random(1, 2048, -1, 1)});
    const computed = g.op('Add', ['b', 'b']);
    g.op('MatMul', ['x', 'b'], {}, 'y1');
    g.op('MatMul', ['x', computed], {}, 'y2');
    g.op('MatMul', ['x', 'd'], {}, 'y3');
    for (const y of ['y1', 'y2', 'y3']) g.output(y, 'float32', [2, 32]);
    const {report, model: out} = quantizeDynamic(decodeModel(g.toBytes(17), 'test.onnx'));
    assert.equal(report.quantizedNodes, 0);
    assert.deepEqual(report.skipped.map((s) => s.reason), ['weight-not-constant', 'weight-not-constant', 'weight-not-constant']);
    assert.deepEqual(opTypes(out), ['Add', 'MatMul', 'MatMul', 'MatMul']);
  });

  test('weights under minWeightElements stay float32; a shared weight is quantized once; a weight read elsewhere is kept', async () => {
    const g = new GraphBuilder();
    g.input('x', 'float32', [3, 32]);
    g.input('ids', 'int64', [3]);
    g.initializer('small', {type: 'float32', dims: [32, 31], data: random(2, 32 * 31, -1, 1)}); // 992 values
    g.initializer('shared', {type: 'float32', dims: [32, 32], data: random(3, 1024, -1, 1)});
    g.initializer('tied', {type: 'float32', dims: [32, 32], data: random(4, 1024, -1, 1)});
    g.op('MatMul', ['x', 'small'], {}, 'y_small');
    const h = g.op('MatMul', ['x', 'shared']);
    g.op('MatMul', [h, 'shared'], {}, 'y_shared');
    g.op('MatMul', ['x', 'tied'], {}, 'y_tied');
    g.op('Gather', ['tied', 'ids'], {axis: 0}, 'y_gather');
    g.output('y_small', 'float32', [3, 31]);
    for (const y of ['y_shared', 'y_tied', 'y_gather']) g.output(y, 'float32', [3, 32]);
    const q = quantized(g.toBytes(17));
    assert.deepEqual(q.report.skipped.map((s) => s.reason), ['weight-too-small']);
    assert.equal(q.report.quantizedNodes, 3);
    assert.equal(q.report.weights, 2);
    const names = (q.model.graph!.initializer ?? []).map((t) => t.name).sort();
    assert.deepEqual(names, ['shared_quantized', 'shared_scale', 'shared_zero_point', 'small', 'tied', 'tied_quantized', 'tied_scale', 'tied_zero_point']);
    // Still a valid graph: it runs, and the Gather still reads the float table.
    const ort = await loadOrt();
    const session = await ort.InferenceSession.create(q.bytes);
    const x = random(5, 96, -1, 1);
    const out = await session.run({x: new ort.Tensor('float32', x, [3, 32]), ids: new ort.Tensor('int64', BigInt64Array.from([0n, 5n, 31n]), [3])});
    const tied = random(4, 1024, -1, 1);
    assert.deepEqual(Array.from(out.y_gather!.data as Float32Array), [...tied.subarray(0, 32), ...tied.subarray(160, 192), ...tied.subarray(992, 1024)]);
    await session.release();
    assert.equal(quantized(g.toBytes(17), {minWeightElements: 992}).report.quantizedNodes, 4);
  });

  test('opset 10 is refused (DynamicQuantizeLinear is opset 11), exit code 3', () => {
    const g = new GraphBuilder();
    g.input('x', 'float32', [2, 64]);
    g.initializer('w', {type: 'float32', dims: [64, 32], data: random(6, 2048, -1, 1)});
    g.op('MatMul', ['x', 'w'], {}, 'y');
    g.output('y', 'float32', [2, 32]);
    assert.throws(() => quantizeDynamic(decodeModel(g.toBytes(10), 'old.onnx')), (e: unknown) => e instanceof SbertkitError && e.exitCode === 3 && /opset 10 is below 11/.test(e.message));
  });

  test('metadata_props are added, replacing keys of the same name and keeping others', () => {
    const g = new GraphBuilder();
    g.input('x', 'float32', [2, 64]);
    g.initializer('w', {type: 'float32', dims: [64, 32], data: random(6, 2048, -1, 1)});
    g.op('MatMul', ['x', 'w'], {}, 'y');
    g.output('y', 'float32', [2, 32]);
    const model = decodeModel(g.toBytes(17), 'm.onnx');
    model.metadataProps = [{key: 'author', value: 'someone'}, {key: 'sbertkit.version', value: 'old'}];
    const out = decodeModel(encodeModel(quantizeDynamic(model, {perChannel: true, metadata: {'sbertkit.version': 'new'}}).model), 'q.onnx');
    const props = Object.fromEntries((out.metadataProps ?? []).map((p) => [p.key, p.value]));
    assert.equal(props.author, 'someone');
    assert.equal(props['sbertkit.version'], 'new');
    assert.equal(props['sbertkit.quantization.per_channel'], 'true');
    assert.equal(props['sbertkit.quantization.nodes'], '1');
    // The input model itself is untouched (the rewrite is pure).
    assert.equal(model.graph!.node!.length, 1);
    assert.equal(model.metadataProps.length, 2);
  });
});

describe('quantizeDynamic on a BERT-layout graph', () => {
  test('every dense layer is rewritten, ONNX Runtime fuses them into its integer kernels, and outputs stay close', async () => {
    const weights = makeBertWeights(TINY_BERT);
    const bytes = buildBertOnnx(TINY_BERT, weights, {withTokenTypeIds: true, outputName: 'last_hidden_state'});
    const q = quantized(bytes);
    // 6 dense layers per encoder layer; the two attention products (q·kᵀ, p·v) have computed B.
    assert.equal(q.report.quantizedNodes, 6 * TINY_BERT.layers);
    assert.deepEqual(q.report.skipped.map((s) => s.reason), new Array(2 * TINY_BERT.layers).fill('weight-not-constant'));
    // Query, key and value read the same activation: one DynamicQuantizeLinear for the three.
    assert.equal(q.report.activations, 4 * TINY_BERT.layers);

    const dir = await tempDir();
    const optimized = join(dir, 'optimized.onnx');
    const ort = await loadOrt();
    const session = await ort.InferenceSession.create(q.bytes, {graphOptimizationLevel: 'extended', optimizedModelFilePath: optimized});
    await session.release();
    const ops = opTypes(decodeModel(await readFile(optimized), optimized));
    const count = (op: string): number => ops.filter((o) => o === op).length;
    assert.equal(count('MatMulInteger'), 0, ops.join());
    assert.equal(count('com.microsoft.MatMulIntegerToFloat') + count('com.microsoft.DynamicQuantizeMatMul'), 6 * TINY_BERT.layers, ops.join());

    const ids = BigInt64Array.from([2, 60, 70, 80, 90, 3, 2, 100, 110, 3, 0, 0].map(BigInt));
    const feeds = (): Record<string, Ort.Tensor> => ({
      input_ids: new ort.Tensor('int64', ids, [2, 6]),
      attention_mask: new ort.Tensor('int64', ids.map((v) => (v === 0n ? 0n : 1n)), [2, 6]),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(12), [2, 6]),
    });
    const outputOf = async (model: Uint8Array): Promise<Float32Array> => {
      const s = await ort.InferenceSession.create(model);
      const out = (await s.run(feeds())).last_hidden_state!.data as Float32Array;
      await s.release();
      return out;
    };
    const [fp32, int8] = [await outputOf(bytes), await outputOf(q.bytes)];
    const H = TINY_BERT.hidden;
    for (let t = 0; t < 12; t++) {
      if (ids[t] === 0n) continue;
      let dot = 0, na = 0, nb = 0;
      for (let i = t * H; i < (t + 1) * H; i++) {
        dot += fp32[i]! * int8[i]!;
        na += fp32[i]! ** 2;
        nb += int8[i]! ** 2;
      }
      assert.ok(dot / Math.sqrt(na * nb) > 0.999, `token ${t}: cosine ${dot / Math.sqrt(na * nb)}`);
    }
  });
});

test('roundHalfEven', () => {
  const cases: Array<[number, number]> = [[0.5, 0], [1.5, 2], [2.5, 2], [-0.5, 0], [-1.5, -2], [-2.5, -2], [2.4999, 2], [-2.5001, -3], [126.5, 126], [127.5, 128], [3, 3]];
  for (const [x, want] of cases) assert.equal(roundHalfEven(x) + 0, want, String(x));
});
