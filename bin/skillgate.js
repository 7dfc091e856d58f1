#!/usr/bin/env node
// The published entry point runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';
register();
await import('../broker/cli.ts');
