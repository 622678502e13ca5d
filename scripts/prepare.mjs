#!/usr/bin/env node
// npm's `prepare` (run by `npm install` in a clone, and before `npm pack`): builds dist/ with tsc.
// `npm install --omit=dev` in a clone has no TypeScript: then tsc is fetched once into npm's cache with
// `npm exec` (the registry is all it needs) and run without @types/node, whose absence only produces
// type errors; the emitted JavaScript is the same. Offline, the install still succeeds and says how to
// build. The published package carries dist/ already, so `npm i -g sbertkit` runs none of this.
import {spawnSync} from 'node:child_process';
import {createRequire} from 'node:module';
import {existsSync, readFileSync, rmSync} from 'node:fs';

const require = createRequire(import.meta.url);
const run = (command, args, stdio = 'inherit') => spawnSync(command, args, {stdio, shell: process.platform === 'win32'}).status;

rmSync('dist', {recursive: true, force: true});
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  tsc = undefined;
}
if (tsc !== undefined) process.exit(run(process.execPath, [tsc, '-p', 'tsconfig.json']) ?? 1);

const version = JSON.parse(readFileSync('package.json', 'utf8')).devDependencies?.typescript ?? 'latest';
console.error(`sbertkit: TypeScript is a dev dependency (not installed); building with typescript@${version} from the npm registry`);
// Its type errors (no @types here) are expected and not shown: only the emitted files matter.
run('npm', ['exec', '--yes', `--package=typescript@${version}`, '--', 'tsc', '-p', 'tsconfig.json', '--noEmitOnError', 'false'], ['ignore', 'ignore', 'inherit']);
if (existsSync('dist/commands') && existsSync('dist/src/index.js')) process.exit(0);
console.error('sbertkit: could not build dist/ (offline?); run `npm install` (with dev dependencies) once to build');
process.exit(0);
