#!/usr/bin/env node
// Entry of `npx fleetwatch …`: runs the compiled CLI (npm ci builds it through the `prepare` script).
import '../dist/src/cli.js';
