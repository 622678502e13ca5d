/**
 * A Hugging Face tokenizer.json (Unigram) that reproduces the SentencePiece-style tokenizer of
 * @energetic-ai/embeddings for USE Lite, built from the package's vocab.json.
 *
 * What the reference tokenizer does, and how each part is expressed here:
 * - NFKC, then every U+0020 becomes ▁, then one ▁ is always prepended (even before a leading space) and
 *   the empty string stays empty: normalizer Sequence[NFKC, Replace(' ', '▁'), Prepend('▁')] with no
 *   pre-tokenizer (a Metaspace pre-tokenizer would not add the second ▁). @huggingface/tokenizers
 *   returns [] for an empty input before normalizing, so '' gives [] as in the reference.
 * - Viterbi over code points maximising the sum of piece scores, no BOS/EOS: Unigram model, no
 *   post-processor. Scores of null (7 pieces containing ':') count as 0 in the reference, so 0.0 here.
 * - Ids 0–5 (\uFFFD, <s>, </s>, extra_token_id_1..3) are not matchable in the reference; here they keep
 *   their slots (ids are positions) with score −100 so that literal "<s>" in text is never preferred.
 * - A character no piece covers becomes id 0, and a run of them a single id 0: Unigram with unk_id 0
 *   fuses unknowns (@huggingface/tokenizers sets fuse_unk for Unigram). The unknown score
 *   (min − 10) never matters: every character of every piece is itself a piece, so an uncovered
 *   character has exactly one way through the lattice.
 * - Duplicate pieces (”5 appears 3 times): the reference keeps the last id, and so does the piece→id
 *   map of @huggingface/tokenizers.
 * Known, inexpressible differences (JS quirks of the reference): exact score ties pick the shortest last
 * piece in the reference ('------' → ▁-- --- - vs ▁-- - ---), and a path score of exactly 0 is treated as
 * unset, which changes texts starting with ':' (':)' → ▁ : ) vs ▁:)).
 */
import {readFile} from 'node:fs/promises';
import {join} from 'node:path';
import {EXIT, SbertkitError} from '../../../errors.js';

/** vocab.json: [piece, log-probability] by id; some scores are null. */
export type UseLiteVocab = Array<[string, number | null]>;

/** Ids below this are reserved symbols the reference tokenizer never produces by matching. */
export const RESERVED_IDS = 6;
const RESERVED_SCORE = -100;
const SPACE_PIECE = '\u2581';
const UNKNOWN_PIECE = '\uFFFD';

export async function readUseLiteVocab(distDir: string): Promise<UseLiteVocab> {
  const path = join(distDir, 'vocab.json');
  const vocab = JSON.parse(await readFile(path, 'utf8')) as unknown;
  const valid =
    Array.isArray(vocab) &&
    vocab.length > RESERVED_IDS &&
    vocab.every((e) => Array.isArray(e) && typeof e[0] === 'string' && (e[1] === null || typeof e[1] === 'number'));
  if (!valid) throw new SbertkitError(`${path}: not a [piece, score] list`, {exitCode: EXIT.MODEL});
  if ((vocab as UseLiteVocab)[0]![0] !== UNKNOWN_PIECE) throw new SbertkitError(`${path}: id 0 is not \\uFFFD`, {exitCode: EXIT.MODEL});
  return vocab as UseLiteVocab;
}

/**
 * The formulation above relies on every character of a matchable piece being a piece by itself (true for
 * the 8000-piece vocab: 193 characters, 193 single-character pieces). Checked so a changed vocab fails
 * loudly instead of tokenizing differently around unknown characters.
 */
function checkSingleCharacterCoverage(vocab: UseLiteVocab): void {
  const singles = new Set<string>();
  const chars = new Set<string>();
  for (let id = RESERVED_IDS; id < vocab.length; id++) {
    const piece = vocab[id]![0];
    if ([...piece].length === 1) singles.add(piece);
    for (const c of piece) chars.add(c);
  }
  const missing = [...chars].filter((c) => !singles.has(c));
  if (missing.length > 0) {
    throw new SbertkitError(`built-in model use-lite: vocab characters without a single-character piece: ${missing.join(' ')}`, {exitCode: EXIT.MODEL});
  }
}

export function buildUseLiteTokenizerJson(vocab: UseLiteVocab): Record<string, unknown> {
  checkSingleCharacterCoverage(vocab);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        {type: 'NFKC'},
        {type: 'Replace', pattern: {String: ' '}, content: SPACE_PIECE},
        {type: 'Prepend', prepend: SPACE_PIECE},
      ],
    },
    pre_tokenizer: null,
    post_processor: null,
    decoder: {type: 'Metaspace', replacement: SPACE_PIECE, prepend_scheme: 'always', split: true},
    model: {
      type: 'Unigram',
      unk_id: 0,
      byte_fallback: false,
      vocab: vocab.map(([piece, score], id) => [piece, id < RESERVED_IDS ? RESERVED_SCORE : (score ?? 0)]),
    },
  };
}
