// Starts a TypeScript worker script from the sources (tests and `tsx` runs):
// Node 20 ignores `--import tsx` in a worker's execArgv, so the worker registers
// tsx's loader itself, then imports the script named last in its argv and
// re-exports its default (the handler piscina calls).
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';

register();
const mod = await import(pathToFileURL(process.argv[process.argv.length - 1]).href);
export default mod.default;
