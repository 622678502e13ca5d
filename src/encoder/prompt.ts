/**
 * Which prompt goes in front of every text, decided as sentence-transformers' encode() decides it: an
 * explicit prompt (even '', which turns the default off), else a named one of the model's prompts,
 * else the model's default_prompt_name, else none.
 */
import {EXIT, SbertkitError} from '../errors.js';
import type {ModelSpec} from '../models/spec.js';

export interface ResolvedPrompt {
  /** '' when no prompt is used. */
  text: string;
  /** Set when the prompt came from the model's prompts (asked by name, or its default). */
  name?: string;
}

export function resolvePrompt(spec: ModelSpec, asked: {prompt?: string; promptName?: string}): ResolvedPrompt {
  // sentence-transformers warns and ignores the name; asking for both is a mistake worth stopping on.
  if (asked.prompt !== undefined && asked.promptName !== undefined) {
    throw new SbertkitError('give a prompt or a prompt name, not both', {exitCode: EXIT.BAD_INPUT});
  }
  const resolved = pick(spec, asked);
  if (resolved.text !== '' && !spec.includePrompt) {
    throw new SbertkitError(
      `${spec.name} pools without the prompt's tokens (include_prompt false in its Pooling config), which sbertkit does not support; use no prompt (an empty one turns off the default)`,
      {exitCode: EXIT.MODEL},
    );
  }
  return resolved;
}

function pick(spec: ModelSpec, asked: {prompt?: string; promptName?: string}): ResolvedPrompt {
  if (asked.prompt !== undefined) return {text: asked.prompt};
  const name = asked.promptName ?? spec.defaultPromptName;
  if (name === undefined) return {text: ''};
  const text = spec.prompts[name];
  if (text === undefined) {
    const names = Object.keys(spec.prompts);
    const known = names.length > 0 ? `its prompts are ${names.join(', ')}` : 'it defines no prompts (config_sentence_transformers.json)';
    throw new SbertkitError(`unknown prompt name '${name}' for ${spec.name}: ${known}`, {exitCode: EXIT.BAD_INPUT});
  }
  return {text, name};
}
