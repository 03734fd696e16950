#!/usr/bin/env node
// The `glance` command: runs the compiled CLI (built by `npm ci` through `prepare`).
import '../dist/src/cli/index.js';
