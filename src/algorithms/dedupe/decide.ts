/**
 * Which rows dedupe keeps and why, from the exact groups, the reference matches and the neighbour
 * lists: pure arithmetic over row numbers, run once per threshold (so a --sweep costs one search).
 *
 * Rows are visited in keep-priority order. Stage 1: a row whose normalized text was seen before is an
 * exact duplicate of that first row (its representative). Then each representative, in order: it is
 * dropped when a reference row (--against) reaches the threshold; else when a row already kept
 * reaches it, and that kept row (the best scoring one) is its kept row. Never chaining: a row is
 * only ever dropped for a row that is kept, so A~B~C with A and C unlike keeps A and C.
 *
 * Stage counts do not depend on the threshold: every non-representative is an exact drop. When its
 * representative was itself dropped, it names the representative's kept row (or reference row) and
 * score, so every dropped row names a row that is in the output (or a reference row), never a dropped
 * one.
 */
import type {NeighbourLists} from '../neighbour-lists.js';
import {codePointLength} from './normalize.js';

export type KeepPolicy = 'first' | 'longest' | 'shortest';
export const KEEP_POLICIES: readonly KeepPolicy[] = ['first', 'longest', 'shortest'];

export type DropReason = 'exact' | 'semantic' | 'against';
/** Per-row codes of DedupeDecisions.reason. */
export const KEPT = 0;
export const EXACT = 1;
export const SEMANTIC = 2;
export const AGAINST = 3;
export const REASON_NAMES: readonly (DropReason | 'kept')[] = ['kept', 'exact', 'semantic', 'against'];

/**
 * The order rows are visited in: input order for 'first'; longest (or shortest) text first for the
 * others, in code points, ties in input order.
 */
export function keepOrder(rows: number, policy: KeepPolicy, texts?: readonly (string | undefined)[]): Int32Array {
  if (policy === 'first') return keepOrderByLength(rows, policy);
  if (texts === undefined) throw new Error(`--keep ${policy} needs texts`);
  return keepOrderByLength(rows, policy, Float64Array.from({length: rows}, (_, i) => codePointLength(texts[i] ?? '')));
}

/** keepOrder from the texts' code point lengths alone (no text absent: 0), for callers that do not hold the texts. */
export function keepOrderByLength(rows: number, policy: KeepPolicy, lengths?: ArrayLike<number>): Int32Array {
  const order = Int32Array.from({length: rows}, (_, i) => i);
  if (policy === 'first') return order;
  if (lengths === undefined) throw new Error(`--keep ${policy} needs text lengths`);
  const sign = policy === 'longest' ? -1 : 1;
  return order.sort((a, b) => sign * (lengths[a]! - lengths[b]!) || a - b);
}

/**
 * Stage 1: representative[r] is the first row in `order` whose key equals r's (itself for the first).
 * An undefined key (no text) is nobody's duplicate.
 */
export function exactRepresentatives(keys: readonly (string | undefined)[], order: Int32Array): Int32Array {
  const representative = new Int32Array(keys.length);
  const first = new Map<string, number>();
  for (const r of order) {
    const key = keys[r];
    if (key === undefined) {
      representative[r] = r;
      continue;
    }
    const seen = first.get(key);
    if (seen === undefined) first.set(key, r);
    representative[r] = seen ?? r;
  }
  return representative;
}

export interface DedupeInputs {
  rows: number;
  order: Int32Array;
  representative: Int32Array;
  /** Stage 2's rows: list row i is input row semanticRows[i] (representatives with a text to compare). */
  semanticRows?: Int32Array;
  lists?: NeighbourLists;
  /** Each input row's best reference match: reference row (-1: none) and score (1 for an exact match). */
  against?: {best: Int32Array; scores: Float32Array};
}

export interface DedupeDecisions {
  /** KEPT, EXACT, SEMANTIC or AGAINST per input row. */
  reason: Uint8Array;
  /** The input row kept in a dropped row's place, or a reference row (keptIsReference); -1 when kept. */
  keptBy: Int32Array;
  /** 1 where keptBy is a reference row (--against), for the row itself or its representative. */
  keptIsReference: Uint8Array;
  /** Cosine to keptBy (1 for exact duplicates); NaN when kept. */
  score: Float32Array;
  counts: DedupeCounts;
}

export interface DedupeCounts {
  kept: number;
  exact: number;
  semantic: number;
  against: number;
}

export function decide(inputs: DedupeInputs, threshold: number): DedupeDecisions {
  const n = inputs.rows;
  const {order, representative} = inputs;
  const reason = new Uint8Array(n);
  const keptBy = new Int32Array(n).fill(-1);
  const score = new Float32Array(n).fill(Number.NaN);
  const keptIsReference = new Uint8Array(n);
  const listRow = new Int32Array(n).fill(-1);
  inputs.semanticRows?.forEach((row, i) => (listRow[row] = i));
  const kept = new Uint8Array(n);
  const {lists, semanticRows, against} = inputs;

  for (const r of order) {
    if (representative[r] !== r) continue;
    if (against !== undefined && against.best[r]! >= 0 && against.scores[r]! >= threshold) {
      reason[r] = AGAINST;
      keptIsReference[r] = 1;
      keptBy[r] = against.best[r]!;
      score[r] = against.scores[r]!;
      continue;
    }
    const i = listRow[r]!;
    if (i >= 0 && lists !== undefined && semanticRows !== undefined) {
      // Best first: the first kept neighbour is the best scoring one.
      for (let e = lists.offsets[i]!; e < lists.offsets[i + 1]!; e++) {
        const s = lists.scores[e]!;
        if (s < threshold) break;
        const other = semanticRows[lists.indices[e]!]!;
        if (kept[other]) {
          reason[r] = SEMANTIC;
          keptBy[r] = other;
          score[r] = s;
          break;
        }
      }
    }
    if (reason[r] === KEPT) kept[r] = 1;
  }

  const counts: DedupeCounts = {kept: 0, exact: 0, semantic: 0, against: 0};
  for (let r = 0; r < n; r++) {
    const rep = representative[r]!;
    if (rep !== r) {
      reason[r] = EXACT;
      if (reason[rep] === KEPT) {
        keptBy[r] = rep;
        score[r] = 1;
      } else {
        keptBy[r] = keptBy[rep]!;
        keptIsReference[r] = keptIsReference[rep]!;
        score[r] = score[rep]!;
      }
    }
    const code = reason[r]!;
    if (code === KEPT) counts.kept++;
    else if (code === EXACT) counts.exact++;
    else if (code === SEMANTIC) counts.semantic++;
    else counts.against++;
  }
  return {reason, keptBy, keptIsReference, score, counts};
}
