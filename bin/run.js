#!/usr/bin/env node
// The sbertkit binary: oclif finds the compiled commands under dist/commands (see package.json "oclif").
import {execute} from '@oclif/core';

await execute({dir: import.meta.url});
