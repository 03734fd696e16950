#!/usr/bin/env node
// npm run native [-- options]
//
// Makes `@tensorflow/tfjs-node` (the native TensorFlow backend) loadable where
// `npm ci` could not download its binaries: builds the addon from the TensorFlow
// CPU wheel (fetched through pip's configured index) and links the result into
// node_modules. Plain Node ESM, Node built-ins only; needs python3 (pip, gyp),
// patch, make and a C++ compiler. See --help.
//
// Beside this file: extract-wheel.py (takes libtensorflow and its headers out of
// the wheel), patches/ (unified diffs applied to the addon source before it is
// built) and check.mjs (loads the result in the project, in a worker too).
//
// The build lives in ONE cache directory that survives `npm ci`:
//   $GLANCE_NATIVE_CACHE, else $XDG_CACHE_HOME/glance-bench/native,
//   else ~/.cache/glance-bench/native            (or --cache DIR)
//   ├─ tensorflow/          libtensorflow + headers from the wheel (deps of the addon)
//   │   ├─ include/          tensorflow/c, tensorflow/core/platform, xla/tsl, tsl
//   │   └─ lib/              libtensorflow.so.2 (= libtensorflow_cc.so.2) + links,
//   │                        libtensorflow_framework.so.2 + link
//   └─ tfjs-node-4.22.0/    the npm package, patched and built: deps -> ../tensorflow,
//                            lib/napi-v*/tfjs_binding.node, node_modules/ holding its
//                            runtime deps WITHOUT @tensorflow/* (see "one tfjs-core")
// Each stage is built in a temporary sibling and renamed into place when complete,
// so an interrupted run never leaves a half stage that a later run trusts.
//
// One tfjs-core: the backend must register with the project's own
// @tensorflow/tfjs. A symlink node_modules/@tensorflow/tfjs-node -> cache would make
// Node resolve `@tensorflow/tfjs` from the cache (realpath), i.e. a second copy or
// none. So node_modules/@tensorflow/tfjs-node is a real directory holding copies of
// package.json and dist/ (the JS), and symlinks deps/, lib/ and node_modules/ into
// the cache. The cached node_modules has no @tensorflow/, so `require('@tensorflow/
// tfjs')` from dist/ falls through to the project's node_modules/@tensorflow/tfjs.
// check.mjs verifies this.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TFJS_NODE_VERSION = '4.22.0';
const PIP_SPEC = 'tensorflow-cpu==2.21.0';
const STAMP = '.glance-native.json';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const TARGET = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node');
const EXTRACT_WHEEL = path.join(HERE, 'extract-wheel.py');
const CHECK = path.join(HERE, 'check.mjs');
const T0 = Date.now();

// Source patches for the addon: patches/tfjs-node-<version>-<id>.patch. Their ids go into the cache
// stamp and the project marker (src/backend/probe.ts nativeAddonPatches() reads it), so a cache built
// without one of them is rebuilt and `glance doctor` can tell a patched addon from npm's.
const PATCH_DIR = path.join(HERE, 'patches');
const PATCH_PREFIX = `tfjs-node-${TFJS_NODE_VERSION}-`;
const PATCHES = (fs.existsSync(PATCH_DIR) ? fs.readdirSync(PATCH_DIR) : [])
  .filter((f) => f.startsWith(PATCH_PREFIX) && f.endsWith('.patch')).sort()
  .map((f) => ({ id: f.slice(PATCH_PREFIX.length, -'.patch'.length), file: path.join(PATCH_DIR, f) }));
const PATCH_IDS = PATCHES.map((p) => p.id);

class Fail extends Error {}

// ---------------------------------------------------------------- output

const log = (msg = '') => process.stdout.write(`${msg}\n`);
const mb = (bytes) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB`
  : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(0)} kB`);
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** Runs fn as a numbered step; fn returns a short summary (sizes etc.). */
async function step(label, fn) {
  const t = Date.now();
  process.stdout.write(`native: ${label} ... `);
  let summary;
  try {
    summary = await fn();
  } catch (e) {
    process.stdout.write('failed\n');
    throw e;
  }
  log(`${summary ? `${summary}, ` : ''}${secs(Date.now() - t)}`);
}

// ---------------------------------------------------------------- arguments

const HELP = `Usage: npm run native [-- options]

Builds @tensorflow/tfjs-node ${TFJS_NODE_VERSION} against the TensorFlow CPU wheel and links it
into node_modules, so that the 'node' backend loads where npm could not download
its binaries. Safe to re-run: a second run only re-links (after npm ci) or does nothing.

Options:
  --wheel FILE          use this tensorflow(-cpu) 2.x wheel instead of running
                        python3 -m pip download ${PIP_SPEC}
  --cache DIR           cache directory (default: $GLANCE_NATIVE_CACHE, else
                        $XDG_CACHE_HOME/glance-bench/native, else ~/.cache/glance-bench/native)
  --force               rebuild the cached stages
  --verbose             show the output of pip, npm and the compiler
  -h, --help            this text

Needs: Linux x86-64, python3 (+ pip unless --wheel), patch, make, a C++
compiler, Node's headers, about 1.3 GB free in the cache directory.`;

function parseArgs(argv) {
  const opts = { wheel: undefined, cache: undefined, force: false, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (!v) throw new Fail(`${a} needs a value (see --help)`);
      return v;
    };
    const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (name === '--wheel') opts.wheel = path.resolve(value());
    else if (name === '--cache') opts.cache = path.resolve(value());
    else if (a === '--force') opts.force = true;
    else if (a === '--verbose') opts.verbose = true;
    else if (a === '-h' || a === '--help') opts.help = true;
    else throw new Fail(`unknown option ${a} (see --help)`);
  }
  if (opts.wheel !== undefined) {
    if (!fs.existsSync(opts.wheel)) {
      throw new Fail(`--wheel ${opts.wheel}: no such file. Give the path of a downloaded tensorflow-cpu wheel ` +
        `(python3 -m pip download ${PIP_SPEC} --no-deps -d DIR), or leave the option out to download the ` +
        'wheel with pip.');
    }
    if (!fs.statSync(opts.wheel).isFile()) throw new Fail(`--wheel ${opts.wheel}: not a file`);
  }
  return opts;
}

function defaultCacheDir() {
  if (process.env.GLANCE_NATIVE_CACHE) return path.resolve(process.env.GLANCE_NATIVE_CACHE);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'glance-bench', 'native');
}

// ---------------------------------------------------------------- helpers

/** Environment for child npm/node processes: without the project's npm run-script variables. */
function childEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  for (const k of Object.keys(env)) {
    if (k.startsWith('npm_lifecycle_') || k.startsWith('npm_package_') || k === 'npm_config_local_prefix' ||
        k === 'INIT_CWD') delete env[k];
  }
  return env;
}

/** Runs a command; throws Fail with the tail of its output on a non-zero exit. */
function run(cmd, args, { cwd, env, verbose, what, hint } = {}) {
  const r = spawnSync(cmd, args, {
    cwd, env: env ?? childEnv(), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024,
    stdio: verbose ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
  });
  if (r.error || r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-25).join('\n');
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit code ${r.status}`;
    throw new Fail(`${what ?? `${cmd} ${args.join(' ')}`} failed (${why})` +
      (out ? `:\n${out.replace(/^/gm, '    ')}` : '') + (hint ? `\n${hint}` : ''));
  }
  return `${r.stdout ?? ''}`;
}

function has(cmd, args = ['--version']) {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

function du(p) {
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.isSymbolicLink() ? 0 : st.size;
  let n = 0;
  for (const e of fs.readdirSync(p)) n += du(path.join(p, e));
  return n;
}

const rm = (p) => fs.rmSync(p, { recursive: true, force: true });
const readJson = (p) => {
  try { return JSON.parse(fs.readFileSync(p, 'utf8')); } catch { return undefined; }
};
const hasAllPatches = (stampOrMarker) => PATCH_IDS.every((id) => (stampOrMarker?.patches ?? []).includes(id));

function freeBytes(dir) {
  try {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  } catch { return Infinity; }
}

function needSpace(dir, bytes, what) {
  const free = freeBytes(dir);
  if (free < bytes) {
    throw new Fail(`not enough disk space in ${dir} for ${what}: need about ${mb(bytes)}, ${mb(free)} free. ` +
      'Free some space, or point GLANCE_NATIVE_CACHE (or --cache DIR) at a disk with room.');
  }
}

// ---------------------------------------------------------------- lock

function lockPid(dir) {
  try { return Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8')) || 0; } catch { return 0; }
}

/** One run at a time per cache directory (two CI clones may share the cache). */
async function lock(cache) {
  const dir = path.join(cache, '.lock');
  const deadline = Date.now() + 20 * 60_000;
  let said = false;
  for (;;) {
    try {
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'pid'), String(process.pid));
      return () => rm(dir);
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    const pid = lockPid(dir);
    let alive = false;
    if (pid > 0) {
      try { process.kill(pid, 0); alive = true; } catch (e) { alive = e.code === 'EPERM'; }
    }
    if (!alive) {
      // Stale lock (a crashed run), or one being created this instant: wait a moment, then take it.
      await new Promise((r) => setTimeout(r, 500));
      if (lockPid(dir) === pid) rm(dir);
      continue;
    }
    if (Date.now() > deadline) throw new Fail(`another npm run native (pid ${pid}) holds ${dir}; gave up waiting`);
    if (!said) { log(`native: waiting for another npm run native (pid ${pid}) using ${cache}`); said = true; }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

// ---------------------------------------------------------------- preflight

function preflightBuild() {
  const missing = [];
  const cxx = process.env.CXX || 'c++';
  if (!has(cxx) && !has('g++')) missing.push('a C++ compiler (c++/g++; Debian: apt-get install g++)');
  if (!has('make')) missing.push('make (Debian: apt-get install make)');
  if (!has('python3')) missing.push('python3 (node-gyp runs gyp with it; Debian: apt-get install python3)');
  if (!has('tar')) missing.push('tar');
  if (PATCHES.length && !has('patch')) missing.push('patch (applies scripts/native/patches; Debian: apt-get install patch)');
  if (missing.length) {
    throw new Fail(`cannot build the tfjs-node addon: missing ${missing.join('; ')}. ` +
      'Install them and run npm run native again.');
  }
}

/** Node's headers: node-gyp would download them (impossible offline) unless nodedir points at them. */
function nodedirEnv() {
  if (process.env.npm_config_nodedir) return {};
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) return { npm_config_nodedir: prefix };
  log(`native: note: Node's headers are not under ${prefix}/include/node; node-gyp will try to download them`);
  return {};
}

// ---------------------------------------------------------------- stage 1: libtensorflow from the wheel

function tfStageComplete(dir, wheel) {
  const stamp = readJson(path.join(dir, STAMP));
  if (!stamp) return undefined;
  // Without --wheel any complete stage will do. pip:NAME (downloaded) and wheel:NAME (given) are the same wheel.
  const file = (source) => String(source).slice(String(source).indexOf(':') + 1);
  if (wheel && file(stamp.source) !== path.basename(wheel)) return undefined;
  const ok = ['include/tensorflow/c/c_api.h', 'include/tensorflow/c/eager/c_api.h', 'lib/libtensorflow.so.2',
    'lib/libtensorflow_framework.so.2', 'lib/libtensorflow.so', 'lib/libtensorflow_framework.so']
    .every((f) => fs.existsSync(path.join(dir, f)));
  return ok ? stamp : undefined;
}

async function downloadWheel(cache, opts, tmp) {
  if (!has('python3', ['-m', 'pip', '--version'])) {
    throw new Fail(has('python3') ? 'python3 -m pip is not available: install pip (Debian: apt-get install ' +
      `python3-pip), or download ${PIP_SPEC} elsewhere and pass --wheel FILE`
      : 'python3 not found: it runs pip (to download the TensorFlow wheel) and gyp (to build the addon). ' +
        'Install python3 and pip (Debian: apt-get install python3 python3-pip).');
  }
  needSpace(cache, 1.3e9, `downloading and unpacking ${PIP_SPEC}`);
  const dl = path.join(tmp, 'download');
  fs.mkdirSync(dl, { recursive: true });
  let wheel;
  await step(`wheel: python3 -m pip download ${PIP_SPEC}`, () => {
    run('python3', ['-m', 'pip', 'download', PIP_SPEC, '--no-deps', '--only-binary=:all:', '-d', dl,
      '--disable-pip-version-check'], {
      verbose: opts.verbose, what: `python3 -m pip download ${PIP_SPEC}`,
      hint: `pip found no ${PIP_SPEC} wheel for this Python/platform through its configured index ` +
        '(see pip config list). Download it elsewhere and pass --wheel FILE.',
    });
    wheel = fs.readdirSync(dl).filter((f) => f.endsWith('.whl')).map((f) => path.join(dl, f))[0];
    if (!wheel) throw new Fail(`pip reported success but left no wheel in ${dl}`);
    return `${path.basename(wheel)}, ${mb(fs.statSync(wheel).size)}`;
  });
  return wheel;
}

async function buildTfStage(cache, opts, tmp) {
  const final = path.join(cache, 'tensorflow');
  if (!opts.force) {
    const stamp = tfStageComplete(final, opts.wheel);
    if (stamp) { log(`native: libtensorflow: cached (${stamp.source}, ${mb(du(final))})`); return stamp; }
  }
  const stage = path.join(tmp, 'tensorflow');
  fs.mkdirSync(stage, { recursive: true });

  let wheel = opts.wheel;
  let source;
  if (wheel) {
    needSpace(cache, 1.0e9, 'unpacking the wheel');
    source = `wheel:${path.basename(wheel)}`;
  } else {
    wheel = await downloadWheel(cache, opts, tmp);
    source = `pip:${path.basename(wheel)}`;
  }
  if (!has('python3')) throw new Fail('python3 not found: it unpacks the wheel and runs gyp. Install python3.');
  await step(`libtensorflow: extracting from ${path.basename(wheel)}`, () => {
    const out = run('python3', [EXTRACT_WHEEL, wheel, stage], { what: `unpacking ${wheel}` });
    const info = JSON.parse(out.trim().split('\n').pop());
    const lib = path.join(stage, 'lib');
    // The addon links -ltensorflow -ltensorflow_framework; libtensorflow_cc.so.2 exports the C and
    // eager C APIs (TF_*, TFE_*) and its soname is libtensorflow_cc.so.2.
    fs.symlinkSync('libtensorflow.so.2', path.join(lib, 'libtensorflow.so'));
    fs.symlinkSync('libtensorflow.so.2', path.join(lib, 'libtensorflow_cc.so.2'));
    fs.symlinkSync('libtensorflow_framework.so.2', path.join(lib, 'libtensorflow_framework.so'));
    const libs = Object.entries(info.libs).map(([n, s]) => `${n} ${mb(s)}`).join(', ');
    return `${libs}, ${info.headers} headers ${mb(info.headerBytes)}`;
  });
  if (!opts.wheel) rm(path.join(tmp, 'download')); // the wheel is no longer needed

  const version = /^tensorflow(?:[_-]cpu)?-(\d+\.\d+\.\d+)/.exec(path.basename(wheel))?.[1];
  const stamp = { source, version, created: new Date().toISOString() };
  fs.writeFileSync(path.join(stage, STAMP), `${JSON.stringify(stamp, null, 2)}\n`);
  rm(final);
  fs.renameSync(stage, final);
  return stamp;
}

// ---------------------------------------------------------------- stage 2: the built package

function findBinding(pkgDir) {
  const lib = path.join(pkgDir, 'lib');
  if (!fs.existsSync(lib)) return undefined;
  const dir = fs.readdirSync(lib).filter((d) => /^napi-v\d+$/.test(d))
    .find((d) => fs.existsSync(path.join(lib, d, 'tfjs_binding.node')));
  return dir && path.join(lib, dir, 'tfjs_binding.node');
}

function pkgStageComplete(dir, tfStamp) {
  const stamp = readJson(path.join(dir, STAMP));
  if (!stamp || stamp.tfjsNode !== TFJS_NODE_VERSION || stamp.tfSource !== tfStamp.source ||
      stamp.tfCreated !== tfStamp.created || !hasAllPatches(stamp)) return undefined;
  const ok = findBinding(dir) && fs.existsSync(path.join(dir, 'dist/index.js')) &&
    fs.existsSync(path.join(dir, 'node_modules/@mapbox/node-pre-gyp')) &&
    !fs.existsSync(path.join(dir, 'node_modules/@tensorflow'));
  return ok ? stamp : undefined;
}

/**
 * Applies patches/ to the unpacked package. Each patch is tried with --dry-run first, so one that
 * does not apply fails the build with patch's own report and leaves no half-patched file.
 */
function applyPatches(pkg) {
  for (const p of PATCHES) {
    const rel = path.relative(ROOT, p.file);
    const args = ['-p1', '--forward', '--batch', '--fuzz=0', '--no-backup-if-mismatch', '-i', p.file];
    const hint = `${rel} does not apply to @tensorflow/tfjs-node ${TFJS_NODE_VERSION} as npm packed it: ` +
      'the addon source is not what the patch was made against. Remake the patch against this source ' +
      '(diff -u), or delete it if the package no longer needs it.';
    run('patch', ['--dry-run', ...args], { cwd: pkg, what: `patch ${p.id}`, hint });
    run('patch', args, { cwd: pkg, what: `patch ${p.id}`, hint });
  }
  return PATCH_IDS.length ? PATCH_IDS.join(', ') : 'no patches';
}

async function buildPkgStage(cache, opts, tmp, tfStamp) {
  const final = path.join(cache, `tfjs-node-${TFJS_NODE_VERSION}`);
  if (!opts.force) {
    const stamp = pkgStageComplete(final, tfStamp);
    if (stamp) {
      log(`native: tfjs-node ${TFJS_NODE_VERSION}: cached (addon built ${stamp.created.slice(0, 10)}, ` +
        `TensorFlow ${stamp.tensorflow})`);
      return stamp;
    }
  }
  preflightBuild();
  needSpace(cache, 0.1e9, 'the tfjs-node package');
  const pkg = path.join(tmp, 'package');
  await step(`tfjs-node: npm pack @tensorflow/tfjs-node@${TFJS_NODE_VERSION}`, () => {
    const out = run('npm', ['pack', `@tensorflow/tfjs-node@${TFJS_NODE_VERSION}`, '--pack-destination', tmp,
      '--silent'], { cwd: tmp, what: 'npm pack', hint: 'Is the npm registry reachable (npm config get registry)?' });
    const tgz = path.join(tmp, out.trim().split('\n').pop().trim());
    run('tar', ['-xzf', tgz, '-C', tmp], { what: `tar -xzf ${tgz}` });
    const size = fs.statSync(tgz).size;
    rm(tgz);
    return `${mb(size)}`;
  });
  // deps/ -> the tensorflow stage (made relative once the package is in its final place).
  fs.symlinkSync(path.join(cache, 'tensorflow'), path.join(pkg, 'deps'));

  await step('tfjs-node: npm install --ignore-scripts (runtime deps, without @tensorflow/tfjs)', () => {
    // The project provides @tensorflow/tfjs; a copy here would be a second tfjs-core.
    const pj = path.join(pkg, 'package.json');
    const original = fs.readFileSync(pj, 'utf8');
    const json = JSON.parse(original);
    for (const k of Object.keys(json.dependencies)) if (k.startsWith('@tensorflow/')) delete json.dependencies[k];
    delete json.devDependencies;
    delete json.scripts;
    fs.writeFileSync(pj, JSON.stringify(json, null, 2));
    try {
      run('npm', ['install', '--ignore-scripts', '--omit=dev', '--no-package-lock', '--no-audit', '--no-fund',
        '--prefer-offline', '--loglevel=error'], {
        cwd: pkg, verbose: opts.verbose, what: 'npm install (tfjs-node runtime deps)',
        hint: 'Is the npm registry reachable (npm config get registry)?',
      });
    } finally {
      fs.writeFileSync(pj, original);
    }
    rm(path.join(pkg, 'node_modules', '@tensorflow'));
    rm(path.join(pkg, 'node_modules', '.package-lock.json'));
    return `${fs.readdirSync(path.join(pkg, 'node_modules')).length} packages, ${mb(du(path.join(pkg, 'node_modules')))}`;
  });

  await step('tfjs-node: patch the addon source', () => applyPatches(pkg));

  await step('tfjs-node: node-pre-gyp install --build-from-source', () => {
    run('npm', ['exec', '--no', '--', 'node-pre-gyp', 'install', '--build-from-source'], {
      cwd: pkg, verbose: opts.verbose, env: childEnv(nodedirEnv()), what: 'building tfjs_binding.node',
      hint: 'The compiler needs g++, make, python3 and Node\'s headers (npm config get nodedir).',
    });
    for (const d of fs.readdirSync(pkg)) if (d === 'build' || d.startsWith('build-tmp-')) rm(path.join(pkg, d));
    const binding = findBinding(pkg);
    if (!binding) throw new Fail(`the build finished but left no lib/napi-v*/tfjs_binding.node in ${pkg}`);
    return `${path.relative(pkg, binding)} ${mb(fs.statSync(binding).size)}`;
  });

  let tensorflow;
  await step('tfjs-node: loading the addon', () => {
    const binding = findBinding(pkg);
    const out = run(process.execPath, ['-e', `process.stdout.write(require(${JSON.stringify(binding)}).TF_Version)`],
      { what: 'loading tfjs_binding.node' });
    tensorflow = out.trim();
    return `TensorFlow ${tensorflow}`;
  });

  const stamp = {
    tfjsNode: TFJS_NODE_VERSION, tensorflow, tfSource: tfStamp.source, tfCreated: tfStamp.created,
    patches: PATCH_IDS, node: process.version, created: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(pkg, STAMP), `${JSON.stringify(stamp, null, 2)}\n`);
  fs.unlinkSync(path.join(pkg, 'deps'));
  fs.symlinkSync(path.join('..', 'tensorflow'), path.join(pkg, 'deps')); // a moved cache still works
  rm(final);
  fs.renameSync(pkg, final);
  return stamp;
}

// ---------------------------------------------------------------- stage 3: link into node_modules

const LINKS = ['deps', 'lib', 'node_modules'];
const COPIES = ['package.json', 'dist', 'README.md', 'LICENSE'];

function linkedCorrectly(pkgDir, pkgStamp) {
  const marker = readJson(path.join(TARGET, STAMP));
  if (!marker || marker.cache !== pkgDir || marker.created !== pkgStamp.created || !hasAllPatches(marker)) return false;
  return LINKS.every((l) => {
    try { return fs.readlinkSync(path.join(TARGET, l)) === path.join(pkgDir, l) && fs.existsSync(path.join(TARGET, l)); } catch { return false; }
  }) && fs.existsSync(path.join(TARGET, 'dist/index.js'));
}

function linkIntoProject(pkgDir, pkgStamp) {
  const tmp = `${TARGET}.native-tmp-${process.pid}`;
  rm(tmp);
  fs.mkdirSync(tmp, { recursive: true });
  for (const c of COPIES) {
    if (fs.existsSync(path.join(pkgDir, c))) fs.cpSync(path.join(pkgDir, c), path.join(tmp, c), { recursive: true });
  }
  for (const l of LINKS) fs.symlinkSync(path.join(pkgDir, l), path.join(tmp, l));
  fs.writeFileSync(path.join(tmp, STAMP), `${JSON.stringify({
    note: 'Installed by npm run native (scripts/native/build.mjs): JS copied, deps/lib/node_modules linked to the cache.',
    cache: pkgDir, created: pkgStamp.created, tensorflow: pkgStamp.tensorflow, patches: pkgStamp.patches ?? [],
  }, null, 2)}\n`);
  rm(TARGET); // npm's own copy without binaries, or a stale link
  fs.renameSync(tmp, TARGET);
}

// ---------------------------------------------------------------- the check

/** Runs check.mjs in a child process: loading a broken addon can take the process down with it. */
function checkProject() {
  const r = spawnSync(process.execPath, [CHECK], {
    cwd: ROOT, encoding: 'utf8', env: childEnv({ TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' }),
    maxBuffer: 64 * 1024 * 1024,
  });
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    const why = r.error ? r.error.message : `exit ${r.status}${r.signal ? `, ${r.signal}` : ''}`;
    return { error: `check process failed (${why}): ${`${r.stderr ?? ''}`.trim().split('\n').slice(-5).join('\n')}` };
  }
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) { log(HELP); return 0; }

  const tfjsDir = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs');
  if (!fs.existsSync(path.join(tfjsDir, 'package.json'))) {
    throw new Fail(`${path.relative(process.cwd(), tfjsDir) || tfjsDir} is missing: run npm ci first.`);
  }
  const tfjsVersion = readJson(path.join(tfjsDir, 'package.json'))?.version;
  if (tfjsVersion !== TFJS_NODE_VERSION) {
    log(`native: warning: the project has @tensorflow/tfjs ${tfjsVersion}, tfjs-node ${TFJS_NODE_VERSION} expects ${TFJS_NODE_VERSION}`);
  }

  const cache = opts.cache ?? defaultCacheDir();
  log(`native: cache ${cache}`);

  // Already working (ours, or a tfjs-node that npm installed with its prebuilt binaries)?
  if (!opts.force && !opts.wheel && fs.existsSync(path.join(TARGET, 'package.json'))) {
    const t = Date.now();
    const res = checkProject();
    const marker = readJson(path.join(TARGET, STAMP));
    const ours = fs.existsSync(path.join(TARGET, STAMP));
    const missing = ours ? PATCH_IDS.filter((id) => !(marker?.patches ?? []).includes(id)) : [];
    if (!res.error && missing.length) {
      log(`native: the built addon lacks the patch ${missing.join(', ')} (see scripts/native/patches); rebuilding it`);
    } else if (!res.error) {
      if (!ours) log('native: note: this tfjs-node was installed by npm, unpatched: its worker threads can crash at start-up (scripts/native/patches)');
      log(`native: nothing to do: @tensorflow/tfjs-node loads (backend '${res.backend}', TensorFlow ${res.tensorflow}, ` +
        `tfjs ${res.tfjs}, one tfjs-core, worker threads ok${ours ? '' : ', installed by npm'}), checked in ${secs(Date.now() - t)}`);
      return 0;
    } else {
      log(`native: node_modules/@tensorflow/tfjs-node does not work yet: ${res.error.split('\n')[0]}`);
    }
  }

  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Fail(`building from the TensorFlow wheel is supported on Linux x86-64 only (this is ` +
      `${process.platform}-${process.arch}). There, npm install downloads tfjs-node's prebuilt binaries when ` +
      'their host is reachable.');
  }

  fs.mkdirSync(cache, { recursive: true });
  const unlock = await lock(cache);
  const tmp = path.join(cache, `tmp-${process.pid}`);
  try {
    for (const d of fs.readdirSync(cache)) if (/^tmp-\d+$/.test(d)) rm(path.join(cache, d)); // crashed runs
    fs.mkdirSync(tmp);
    // Check the build tools before downloading anything.
    const tfCached = !opts.force && tfStageComplete(path.join(cache, 'tensorflow'), opts.wheel);
    const pkgCached = !opts.force && tfCached &&
      pkgStageComplete(path.join(cache, `tfjs-node-${TFJS_NODE_VERSION}`), tfCached);
    if (!pkgCached) preflightBuild();
    const tfStamp = await buildTfStage(cache, opts, tmp);
    const pkgStamp = await buildPkgStage(cache, opts, tmp, tfStamp);
    const pkgDir = path.join(cache, `tfjs-node-${TFJS_NODE_VERSION}`);

    if (linkedCorrectly(pkgDir, pkgStamp)) {
      log('native: node_modules/@tensorflow/tfjs-node: already linked to the cache');
    } else {
      await step('node_modules/@tensorflow/tfjs-node: copying the JS, linking deps/ lib/ node_modules/ to the cache',
        () => { linkIntoProject(pkgDir, pkgStamp); return `${mb(du(TARGET))} copied`; });
    }
  } finally {
    rm(tmp);
    unlock();
  }

  let res;
  await step('check: import @tensorflow/tfjs-node in the project (main thread and a worker)', () => {
    res = checkProject();
    if (res.error) {
      rm(TARGET); // leave no half-working tfjs-node behind: the 'auto' backend falls back to wasm
      throw new Fail(`@tensorflow/tfjs-node does not work after linking, so it was removed again: ${res.error}`);
    }
    return `backend '${res.backend}', TensorFlow ${res.tensorflow}, tfjs ${res.tfjs}, one tfjs-core`;
  });
  log(`native: done in ${secs(Date.now() - T0)}: the 'node' backend is ready (glance ... --backend node, or auto)`);
  return 0;
}

main().then((code) => process.exit(code), (e) => {
  const msg = e instanceof Fail ? e.message : (e && e.stack) || String(e);
  process.stderr.write(`\nnative: FAILED: ${msg}\n` +
    'native: nothing in the project was changed for the worse: the wasm backend still works ' +
    '(--backend wasm, or auto falls back to it).\n');
  process.exit(1);
});
