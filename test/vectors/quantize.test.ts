/**
 * Compact vectors against two independent references: the output of sentence-transformers'
 * quantize_embeddings formulas run by numpy on a fixed matrix (pasted below with the script that made
 * it), and a plain quantizer written here (float32 arithmetic through a Float32Array, bits built as
 * strings, half floats found by searching every half value) on seeded random vectors.
 */
import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {fromHalfBits, toHalfBits} from '../../src/vectors/half-float.js';
import {BitMatrix} from '../../src/vectors/packed-bits.js';
import {RangeTracker, vectorDecoder, VectorQuantizer, type Precision, type QuantizationRanges} from '../../src/vectors/quantize.js';
import {mulberry32} from '../helpers/prng.js';
import {referenceLevels, referencePack} from '../helpers/reference-quantize.js';

/**
 * Made with numpy 2.4 by the formulas of sentence_transformers/quantization.py (ranges from the
 * embeddings themselves):
 *
 *   emb = (np.random.default_rng(7).standard_normal((6, 16)) * 0.3).astype(np.float32)
 *   ranges = np.vstack((np.min(emb, axis=0), np.max(emb, axis=0)))
 *   starts = ranges[0, :]; steps = (ranges[1, :] - ranges[0, :]) / 255
 *   uint8 = ((emb - starts) / steps).astype(np.uint8); int8 = ((emb - starts) / steps - 128).astype(np.int8)
 *   binary = (np.packbits(emb > 0).reshape(emb.shape[0], -1) - 128).astype(np.int8)
 *   ubinary = np.packbits(emb > 0).reshape(emb.shape[0], -1); float16 = emb.astype(np.float16).view(np.uint16)
 */
const NUMPY = {
  embeddings: [
    [0.00036904599983245134, 0.08962365984916687, -0.08224135637283325, -0.267177551984787, -0.1364012360572815, -0.29749396443367004, 0.01804308034479618, 0.40206456184387207, -0.147661954164505, -0.1861424744129181, 0.14695261418819427, 0.10706610232591629, 0.03162427619099617, -0.2791404128074646, -0.00877554714679718, 0.20859095454216003],
    [-0.4032643735408783, -0.13728472590446472, -0.5703667998313904, -0.38686132431030273, -0.5525205135345459, -0.0705273374915123, -0.3802339434623718, 0.08137930929660797, 0.047025326639413834, -0.056079283356666565, -0.7550278902053833, -0.16160786151885986, -0.014550283551216125, 0.033992696553468704, -0.45904073119163513, -0.14332598447799683],
    [-0.29355573654174805, -0.24265116453170776, 0.3182695806026459, -0.2422603964805603, -0.009756511077284813, 0.2653169631958008, -0.17508013546466827, -0.03351058438420296, 0.033139243721961975, 0.019134532660245895, -0.36751675605773926, 0.02284206822514534, 0.4076470136642456, -0.46414339542388916, 0.25781479477882385, 0.03580620884895325],
    [-0.19244112074375153, 0.6001249551773071, 0.2286779135465622, -0.35978665947914124, 0.022354869171977043, 0.17300687730312347, -0.05663463845849037, 0.20487308502197266, -0.019955195486545563, 0.2001742720603943, 0.4315567910671234, -0.20269867777824402, 0.060941584408283234, -0.1389922797679901, 0.03818052262067795, -0.3561583459377289],
    [-0.17379048466682434, -0.05885879322886467, 0.2696291506290436, 0.3435665965080261, -0.3970583379268646, -0.23839271068572998, 0.19407102465629578, -0.5977259278297424, -0.13895095884799957, -0.029186077415943146, 0.3771044909954071, 0.20682117342948914, -0.09816402941942215, -0.11057277023792267, -0.07505861669778824, 0.4570588171482086],
    [-0.12840747833251953, -0.09110412001609802, 0.10577671974897385, -0.036231134086847305, -0.059185270220041275, -0.33422014117240906, -0.003456440521404147, -0.13307437300682068, 0.34983834624290466, 0.19592654705047607, -0.007243083789944649, 0.2005143016576767, -0.10196086764335632, 0.3156379163265228, -0.0016198682133108377, 0.1750147044658661],
  ],
  int8: [
    [126, -27, 12, -86, 56, -112, 48, 127, -128, -128, 65, 64, -61, -67, 32, 49],
    [-128, -96, -128, -128, -128, -15, -128, 45, -28, -42, -128, -102, -84, 34, -128, -61],
    [-58, -128, 127, -77, 112, 127, -36, 15, -35, 7, -44, 12, 126, -128, 127, -5],
    [5, 127, 101, -118, 127, 87, 15, 76, -62, 127, 127, -128, -46, -21, 48, -128],
    [16, -72, 113, 127, -59, -87, 127, -128, -123, -24, 115, 127, -126, -12, 8, 127],
    [45, -82, 66, -5, 90, -128, 39, -9, 127, 124, 32, 123, -128, 127, 34, 38],
  ],
  uint8: [
    [254, 100, 140, 41, 184, 15, 176, 255, 0, 0, 193, 192, 66, 60, 160, 177],
    [0, 31, 0, 0, 0, 112, 0, 173, 99, 85, 0, 25, 43, 162, 0, 66],
    [69, 0, 255, 50, 240, 255, 91, 143, 92, 135, 83, 140, 254, 0, 255, 122],
    [133, 255, 229, 9, 255, 215, 143, 204, 65, 255, 255, 0, 81, 106, 176, 0],
    [144, 55, 241, 255, 68, 40, 255, 0, 4, 103, 243, 255, 1, 115, 136, 255],
    [173, 45, 194, 122, 218, 0, 167, 118, 255, 252, 160, 251, 0, 255, 162, 166],
  ],
  binary: [[67, -71], [-127, 4], [-92, 91], [-19, -22], [-78, -79], [-96, 85]],
  ubinary: [[195, 57], [1, 132], [36, 219], [109, 106], [50, 49], [32, 213]],
  float16: [
    [3596, 11708, 44355, 46150, 45149, 46275, 9374, 13935, 45242, 45557, 12468, 11994, 10252, 46199, 41086, 12973],
    [46708, 45157, 47248, 46641, 47212, 44164, 46613, 11573, 10757, 43822, 47626, 45356, 41843, 10330, 46936, 45206],
    [46258, 46020, 13592, 46017, 41215, 13375, 45466, 43082, 10302, 9446, 46561, 9689, 13958, 46957, 13344, 10389],
    [45608, 14541, 13137, 46530, 9657, 12681, 43840, 12942, 42268, 12904, 14056, 45693, 11213, 45171, 10467, 46515],
    [45456, 43913, 13392, 13695, 46682, 45985, 12854, 47304, 45170, 42873, 13833, 12958, 44616, 44820, 44238, 14160],
    [45084, 44501, 11973, 43171, 43923, 46425, 39700, 45122, 13721, 12869, 40811, 12907, 44679, 13581, 38563, 12698],
  ],
};

const rows = NUMPY.embeddings.map((row) => Float32Array.from(row));

function trackedRanges(vectors: readonly Float32Array[]): QuantizationRanges {
  const tracker = new RangeTracker(vectors[0]!.length);
  for (const v of vectors) tracker.add(v);
  const ranges = tracker.ranges()!;
  // The tracker against a plain min/max.
  for (let i = 0; i < ranges.min.length; i++) {
    assert.equal(ranges.min[i], Math.min(...vectors.map((v) => v[i]!)));
    assert.equal(ranges.max[i], Math.max(...vectors.map((v) => v[i]!)));
  }
  return ranges;
}

describe("quantize: sentence-transformers' quantize_embeddings as run by numpy", () => {
  const ranges = trackedRanges(rows);
  for (const precision of ['int8', 'uint8', 'binary', 'ubinary', 'float16'] as const) {
    test(precision, () => {
      const quantizer = new VectorQuantizer(precision, 16, ranges);
      rows.forEach((row, i) => assert.deepEqual(Array.from(quantizer.encode(row)), NUMPY[precision][i], `row ${i}`));
      assert.equal(quantizer.clipped, 0);
    });
  }
});

function seededRows(count: number, dimension: number, seed: number, scale = 1): Float32Array[] {
  const rand = mulberry32(seed);
  return Array.from({length: count}, () => Float32Array.from({length: dimension}, () => (rand() + rand() + rand() - 1.5) * scale));
}

describe('quantize: against the reference quantizer written here', () => {
  const calibration = seededRows(200, 37, 11);
  const ranges = trackedRanges(calibration);
  // Later rows with a wider spread: many values fall outside the calibration ranges and are clipped.
  const later = seededRows(100, 37, 12, 1.6);

  for (const precision of ['int8', 'uint8'] as const) {
    test(`${precision}: levels and clipping of in-range and out-of-range rows`, () => {
      const quantizer = new VectorQuantizer(precision, 37, ranges);
      let clipped = 0;
      for (const row of [...calibration, ...later]) {
        const want = referenceLevels(row, ranges, precision === 'int8');
        assert.deepEqual(Array.from(quantizer.encode(row)), want.levels);
        clipped += want.clipped;
      }
      assert.ok(clipped > 100, `the fixture clips (${clipped})`);
      assert.equal(quantizer.clipped, clipped);
      // The calibration rows themselves never clip.
      const fresh = new VectorQuantizer(precision, 37, ranges);
      for (const row of calibration) fresh.encode(row);
      assert.equal(fresh.clipped, 0);
    });

    test(`${precision}: read back to the middle of each level's interval, within half a step of the value`, () => {
      const quantizer = new VectorQuantizer(precision, 37, ranges);
      const decode = vectorDecoder(precision, 37, ranges);
      const out = new Float32Array(37);
      for (const row of calibration) {
        const stored = quantizer.encode(row);
        decode(stored, 0, out, 0);
        for (let i = 0; i < 37; i++) {
          const step = (ranges.max[i]! - ranges.min[i]!) / 255;
          // The interval of t = (x - min) / step each stored value stands for, truncating toward zero:
          // uint8 u: [u, u + 1); int8 q < 0: (q + 127, q + 128]; q > 0: [q + 128, q + 129); q = 0: (127, 129).
          const q = stored[i]!;
          const [from, to] = precision === 'uint8' ? [q, q + 1] : q < 0 ? [q + 127, q + 128] : q > 0 ? [q + 128, q + 129] : [127, 129];
          const t = (row[i]! - ranges.min[i]!) / step;
          assert.ok(t >= from - 1e-3 && t <= to + 1e-3, `dim ${i}: t ${t} outside [${from}, ${to}] for ${q}`);
          assert.ok(Math.abs(out[i]! - (ranges.min[i]! + ((from + to) / 2) * step)) < 1e-6, `dim ${i}`);
          assert.ok(Math.abs(out[i]! - row[i]!) <= ((to - from) * step) / 2 + 1e-6, `dim ${i}: ${out[i]} vs ${row[i]} (step ${step})`);
        }
      }
    });
  }

  test('a dimension with one value in its range stores level 0 and reads back as that value', () => {
    const flat = [Float32Array.from([0.5, -1]), Float32Array.from([0.5, 1])];
    const r = trackedRanges(flat);
    const quantizer = new VectorQuantizer('int8', 2, r);
    assert.deepEqual(Array.from(quantizer.encode(flat[0]!)), [-128, -128]);
    const off = Float32Array.from([0.7, 1]);
    // float32 rounding puts the maximum just under level 127 here (numpy gives the same 126).
    assert.deepEqual(Array.from(quantizer.encode(off)), referenceLevels(off, r, true).levels);
    assert.equal(quantizer.encode(off)[0], -128);
    assert.equal(quantizer.clipped, 2);
    const out = new Float32Array(2);
    vectorDecoder('int8', 2, r)(Int8Array.from([-128, 127]), 0, out, 0);
    assert.equal(out[0], 0.5);
    assert.ok(Math.abs(out[1]! - (1 + 1 / 255)) < 1e-6, `${out[1]}: the top level's interval starts at the maximum`);
  });

  for (const dimension of [8, 13, 64]) {
    test(`binary and ubinary: packbits per row (dim ${dimension}), unpacked to +1/-1`, () => {
      const vectors = seededRows(40, dimension, dimension);
      vectors[0]!.fill(0); // zero is not > 0
      const binary = new VectorQuantizer('binary', dimension);
      const ubinary = new VectorQuantizer('ubinary', dimension);
      for (const row of vectors) {
        const want = referencePack(row);
        assert.deepEqual(Array.from(ubinary.encode(row)), want);
        const stored = binary.encode(row);
        assert.deepEqual(Array.from(stored), want.map((b) => b - 128));
        const out = new Float32Array(dimension);
        vectorDecoder('binary', dimension)(stored, 0, out, 0);
        assert.deepEqual(Array.from(out), Array.from(row, (v) => (v > 0 ? 1 : -1)));
      }
      const bits = BitMatrix.fromSigns(vectors.map((_, i) => i), dimension, Float32Array.from(vectors.flatMap((v) => Array.from(v))));
      vectors.forEach((row, i) => {
        assert.deepEqual(Array.from(bits.row(i)), referencePack(row));
        assert.deepEqual(Array.from(bits.unpackRow(i)), Array.from(row, (v) => (v > 0 ? 1 : -1)));
      });
    });
  }
});

describe('half floats', () => {
  /** Every finite half value, ascending, with its bit pattern: the search space of the reference. */
  const halves = (() => {
    const values: {value: number; bits: number}[] = [];
    for (let e = 0; e < 31; e++) {
      for (let m = 0; m < 1024; m++) {
        const magnitude = e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15);
        values.push({value: magnitude, bits: (e << 10) | m});
      }
    }
    return values;
  })();

  /** The nearest half by search (ties to the even pattern; beyond the largest half plus half an ulp: infinity). */
  function referenceHalf(x: number): number {
    const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
    const a = Math.abs(x);
    if (a >= 65520) return sign | 0x7c00;
    if (a >= 65504) return sign | 0x7bff;
    let lo = 0;
    let hi = halves.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (halves[mid]!.value <= a) lo = mid;
      else hi = mid;
    }
    const [below, above] = [halves[lo]!, halves[hi]!];
    if (a === below.value) return sign | below.bits;
    const [dBelow, dAbove] = [a - below.value, above.value - a];
    const pick = dBelow < dAbove ? below : dAbove < dBelow ? above : (below.bits & 1) === 0 ? below : above;
    return sign | pick.bits;
  }

  test('every finite half value reads back exactly and re-encodes to its own bits', () => {
    for (const {value, bits} of halves) {
      assert.equal(fromHalfBits(bits), value);
      assert.equal(toHalfBits(value), bits);
      assert.equal(toHalfBits(-value), bits | 0x8000);
    }
  });

  test('float32 values round to the nearest half, ties to even (random bit patterns, midpoints, edges)', () => {
    const rand = mulberry32(99);
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    const cases: number[] = [0, -0, 1, 65504, 65519.99, 65520, 1e-8, 2 ** -25, 2 ** -25 * 1.0001, 2 ** -24 * 1.5, 2 ** -24 * 2.5, 0.1, -0.3333];
    for (let i = 0; i < halves.length - 1; i += 7) cases.push((halves[i]!.value + halves[i + 1]!.value) / 2); // exact midpoints
    for (let i = 0; i < 20_000; i++) {
      // Exponents around the half range, random mantissas.
      u[0] = ((rand() < 0.5 ? 0x80000000 : 0) | ((95 + Math.floor(rand() * 50)) << 23) | Math.floor(rand() * 0x800000)) >>> 0;
      cases.push(f[0]!);
    }
    for (const x of cases) assert.equal(toHalfBits(x), referenceHalf(Math.fround(x)), `x = ${x}`);
    assert.equal(toHalfBits(Infinity), 0x7c00);
    assert.ok(Number.isNaN(fromHalfBits(toHalfBits(NaN))));
  });

  test('float16 quantization clips beyond +-65504 and counts it', () => {
    const quantizer = new VectorQuantizer('float16' as Precision, 3);
    assert.deepEqual(Array.from(quantizer.encode(Float32Array.from([1e6, -70000, 1]))), [0x7bff, 0xfbff, 0x3c00]);
    assert.equal(quantizer.clipped, 2);
  });
});
