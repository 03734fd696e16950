// Starts a TypeScript worker script from the sources (tests and `tsx` runs):
// Node 20 ignores `--import tsx` in a worker's execArgv, so the worker registers
// tsx's loader itself, then imports the script named in its argv.
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';

register();
await import(pathToFileURL(process.argv[process.argv.length - 1]).href);
