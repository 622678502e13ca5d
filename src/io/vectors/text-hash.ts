/**
 * The `text_sha256` column of vector files written by `encode --text-hash` or `encode --reuse`: the
 * sha256 (hex) of each row's text as read from the input (UTF-8 bytes, before any prompt is put in
 * front), so a later `encode --reuse` can tell which rows are unchanged without keeping the texts.
 * A plain sha256 of the text, so anyone can check one: `printf %s "$text" | sha256sum`.
 * The settings that also shape a vector (model, prompt, pooling...) are compared through the file's
 * metadata, not folded into the hash: a file with a kept text column then matches the same way.
 */
import {createHash} from 'node:crypto';

export const TEXT_HASH_COLUMN = 'text_sha256';

/** Metadata key: sha256 of the ONNX graph that made the vectors (files written with text hashes). */
export const ONNX_SHA256_KEY = 'sbertkit.onnx_sha256';

export function textHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
