/**
 * Every user-facing hub failure, each as one SbertkitError line with exit code EXIT.MODEL. Kept in one
 * place so the wording (and what it tells the user to do next) stays consistent.
 */
import {EXIT, SbertkitError} from '../../errors.js';

function modelError(message: string, cause?: unknown): SbertkitError {
  return new SbertkitError(message, {exitCode: EXIT.MODEL, cause});
}

export function gatedError(repoId: string, endpoint: string, tokenSent: boolean): SbertkitError {
  const refused = tokenSent ? ' (the token that was sent was refused)' : '';
  return modelError(
    `repo ${repoId} is gated or private: set HF_TOKEN to a Hugging Face token that has access${refused}; ` +
      `for a gated model, accept its terms at ${endpoint}/${repoId} first`,
  );
}

export function notFoundError(repoId: string, revision: string, endpoint: string, maybePrivate = false): SbertkitError {
  const hint = maybePrivate ? ', or it is private: set HF_TOKEN to a token that has access' : '';
  return modelError(`model ${repoId} not found at revision ${revision} on ${endpoint}${hint}`);
}

export function unreachableError(endpoint: string, detail: string, cause?: unknown): SbertkitError {
  return modelError(
    `cannot reach the model hub at ${endpoint} (${detail}): check the network or HF_ENDPOINT, ` +
      'or use --offline with a model that is already cached, or pass a local model folder to --model',
    cause,
  );
}

export function notAHubError(url: string, what: string): SbertkitError {
  return modelError(`${url} did not answer like a Hugging Face hub (${what}); check HF_ENDPOINT`);
}

export function httpError(url: string, status: number, detail: string | null): SbertkitError {
  return modelError(`the hub answered HTTP ${status} for ${url}${detail ? `: ${detail}` : ''}`);
}

/** `action` reads like "downloading onnx/model.onnx"; `hint` says what to do next. */
export function retriesExhaustedError(action: string, attempts: number, cause: unknown, hint = 'check the network and run again'): SbertkitError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return modelError(`${action} failed after ${attempts} attempts (${why}); ${hint}`, cause);
}

export function noOnnxError(repoId: string, revision: string, onnxFile: string, otherOnnxFiles: readonly string[]): SbertkitError {
  const others = otherOnnxFiles.length > 0 ? `; the repo has ${otherOnnxFiles.join(', ')}: pick one with --model-file` : '';
  return modelError(
    `model ${repoId}@${revision} has no ONNX export at ${onnxFile}${others}. ` +
      `To make one, in Python: SentenceTransformer("${repoId}", backend="onnx").save_pretrained("DIR") ` +
      '(or sentence_transformers.export_optimized_onnx_model / export_dynamic_quantized_onnx_model), ' +
      `or: optimum-cli export onnx --model ${repoId} DIR; then pass --model DIR`,
  );
}

export function missingRequiredFileError(repoId: string, revision: string, file: string): SbertkitError {
  return modelError(`model ${repoId}@${revision} has no ${file}, which sbertkit needs (config.json, tokenizer.json and an ONNX graph)`);
}

export function offlineMissingError(repoId: string, revision: string, file: string, folder: string): SbertkitError {
  return modelError(
    `offline mode: ${repoId}@${revision} has no cached ${file} in ${folder}; run once without --offline/HF_HUB_OFFLINE or pass a local model folder`,
  );
}

/** Its own class so the downloader can tell "bad bytes: delete them" from "interrupted: keep for resume". */
export class IntegrityError extends SbertkitError {
  constructor(file: string, what: string) {
    super(`downloaded ${file} is corrupt (${what}); nothing was kept, run again to download it afresh`, {exitCode: EXIT.MODEL});
  }
}

export function invalidInputError(message: string): SbertkitError {
  return new SbertkitError(message, {exitCode: EXIT.BAD_INPUT});
}
