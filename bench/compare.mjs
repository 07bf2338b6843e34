// compare.mjs - evo against ONNX Runtime (CPU execution provider) on this
// machine: interleaved timing rounds plus an output agreement check.
// Run through bench/compare, which installs onnxruntime-node first.
// See bench/README.md for the method.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNpy, writeNpyF32 } from './npy.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
// Pretrained detectors kept beside the repository (never copied into it).
const SHARED_MODELS = path.join(ROOT, '..', 'shared', 'data', 'models');
const SHARED_NAMES = ['yolox_nano', 'nanodet_m_416', 'picodet_s_416_coco'];
// The lightweight models of models/export.py.
const LIGHT_NAMES = ['yolov5n', 'mobilenet_v2', 'mobilenet_v3_large', 'shufflenet_v2_x1_0', 'efficientnet_b0'];

const USAGE = `usage: bench/compare [options]
  --models LIST     comma-separated model names or .onnx paths (default yolov5s,yolov8n,resnet18,
                    yolov5n,mobilenet_v2,mobilenet_v3_large,shufflenet_v2_x1_0,efficientnet_b0 and,
                    when ../shared/data/models is present, yolox_nano,nanodet_m_416,picodet_s_416_coco)
  --threads LIST    thread counts (default 1,2)
  --runs R          timed runs per engine per round (default 10)
  --rounds K        interleaved rounds (default 5)
  --warmup W        warm-up runs per engine per round (default 2)
  --budget S        cap the timed runs of one engine in one round to about S seconds (default 30);
                    a slow engine then gets fewer runs (at least 1) per round
  --opset N         use models/out/<model>_op<N>.onnx (default 17; falls back to the only opset present)
  --evo PATH        evo binary (default build/evo: configured by make, target evo_cli built)
  --no-build        do not build evo
  --no-numerics     skip the output agreement check
  --ort-only        time ONNX Runtime alone (no evo build, runs or agreement check)
  --int8            also quantize each model (evo quantize, calibrated on ../shared/data/coco64 images
                    with the model's preset) and time evo on the int8 .evo against ORT on its QDQ export
  --calib DIR       calibration images for --int8 (default ../shared/data/coco64/images)
  --calib-count N   calibration images used (default 16)
  --int8-all LIST   models (comma-separated) quantized with evo quantize --int8-all (every conv int8) instead
                    of the default SQNR policy; for random-weight models, whose policy keeps most MACs fp32.
                    Their rows are named "M int8-all"
  --int8-dir DIR    keep the quantized models in DIR (created if missing) and reuse the ones there
                    (M.int8.evo with M.qdq.onnx, newer than the model) instead of quantizing again
  --out DIR         results directory (default bench/results)
  --help
bench/compare --layers MODEL [--threads N] [--runs R]: per-layer times of both engines`;

function parseArgs(argv) {
  const o = {
    models: ['yolov5s', 'yolov8n', 'resnet18', ...LIGHT_NAMES, ...SHARED_NAMES.filter((m) => existsSync(path.join(SHARED_MODELS, `${m}.onnx`)))],
    threads: [1, 2], runs: 10, rounds: 5, warmup: 2,
    budget: 30, opset: 17, evo: path.join(ROOT, 'build', 'evo'), build: true, numerics: true,
    calib: path.join(ROOT, '..', 'shared', 'data', 'coco64', 'images'), calibCount: 16, int8All: [],
    out: path.join(BENCH, 'results'),
  };
  const int = (name, v, lo) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < lo) throw new Error(`${name}: expected an integer >= ${lo}, got "${v}"`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--help' || a === '-h') { console.log(USAGE); process.exit(0); }
    else if (a === '--models') o.models = next().split(',').filter((s) => s);
    else if (a === '--threads') o.threads = next().split(',').map((s) => int('--threads', s, 1));
    else if (a === '--runs') o.runs = int(a, next(), 1);
    else if (a === '--rounds') o.rounds = int(a, next(), 1);
    else if (a === '--warmup') o.warmup = int(a, next(), 0);
    else if (a === '--budget') {
      o.budget = Number(next());
      if (!(o.budget > 0)) throw new Error('--budget: expected seconds > 0');
    } else if (a === '--opset') o.opset = int(a, next(), 1);
    else if (a === '--evo') o.evo = path.resolve(next());
    else if (a === '--no-build') o.build = false;
    else if (a === '--no-numerics') o.numerics = false;
    else if (a === '--ort-only') o.ortOnly = true;
    else if (a === '--int8') o.int8 = true;
    else if (a === '--calib') o.calib = path.resolve(next());
    else if (a === '--calib-count') o.calibCount = int(a, next(), 1);
    else if (a === '--int8-all') o.int8All = next().split(',').filter((s) => s);
    else if (a === '--int8-dir') o.int8Dir = path.resolve(next());
    else if (a === '--out') o.out = path.resolve(next());
    else throw new Error(`unknown option "${a}"\n${USAGE}`);
  }
  if (!o.models.length || !o.threads.length) throw new Error('--models and --threads must not be empty');
  return o;
}

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  return { ok: r.status === 0 && !r.error, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (!n) return NaN;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function lastLines(text, n = 3) {
  return text.trim().split('\n').slice(-n).join(' | ').replace(/^evo: /, '');
}

// ---------------------------------------------------------------- setup

// Configures build/ through the Makefile's own rule (a Release build) and
// builds only the evo binary, so a half-written test elsewhere in the tree
// does not stop the benchmark.
function buildEvo(o) {
  if (!o.build) return null;
  process.stdout.write('building evo ... ');
  let r = sh('make', ['-C', ROOT, '--no-print-directory', 'build/CMakeCache.txt']);
  if (r.ok) r = sh('cmake', ['--build', path.join(ROOT, 'build'), '--target', 'evo_cli', '-j', String(os.cpus().length)]);
  if (r.ok) {
    console.log('ok');
    return null;
  }
  const text = `${r.stdout}\n${r.stderr}`;
  const why = /^.*\berror\b.*$/m.exec(text.replace(/^g?make.*$/gm, ''))?.[0]?.trim() ?? lastLines(text, 3);
  console.log('FAILED');
  console.log(`  ${why}`);
  if (existsSync(o.evo)) {
    console.log(`  continuing with the existing ${path.relative(ROOT, o.evo)} (it may be stale)`);
    return `build failed, used the existing binary: ${why}`;
  }
  throw new Error(`the build failed and there is no ${o.evo}`);
}

// CPU time (in seconds) used by the whole machine and by this process plus
// its finished children, to estimate how busy the machine was with other work
// while we timed.
const USER_HZ = 100;
function cpuSample() {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const busy = cpu.reduce((a, b) => a + b, 0) - cpu[3] - (cpu[4] ?? 0); // minus idle and iowait
    const st = readFileSync('/proc/self/stat', 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ').map(Number); // f[0] is field 3
    const self = f[11] + f[12] + f[13] + f[14]; // utime stime cutime cstime
    return { wall: Number(process.hrtime.bigint()) / 1e9, busy: busy / USER_HZ, self: self / USER_HZ };
  } catch {
    return null;
  }
}

// Average number of CPUs kept busy by other processes between two samples.
function otherLoad(a, b) {
  if (!a || !b || b.wall <= a.wall) return NaN;
  return Math.max(0, (b.busy - a.busy - (b.self - a.self)) / (b.wall - a.wall));
}

function modelFiles(name, opset) {
  if (name.endsWith('.onnx')) {
    const p = path.resolve(name);
    let stem = path.basename(p).replace(/(_op\d+)?\.onnx$/, '');
    if (stem === 'model') stem = path.basename(path.dirname(p)); // ONNX test-case layout
    const dir = path.dirname(p);
    return { name: stem, onnx: p, input: path.join(dir, `${stem}.input.npy`), output: path.join(dir, `${stem}.output.npy`) };
  }
  if (SHARED_NAMES.includes(name)) return modelFiles(path.join(SHARED_MODELS, `${name}.onnx`), opset);
  const dir = path.join(ROOT, 'models', 'out');
  let onnx = path.join(dir, `${name}_op${opset}.onnx`);
  if (!existsSync(onnx) && existsSync(dir)) {
    const re = new RegExp(`^${name.replace(/[^\w]/g, '\\$&')}_op(\\d+)\\.onnx$`);
    const found = readdirSync(dir).filter((f) => re.test(f));
    if (found.length === 1) onnx = path.join(dir, found[0]);
  }
  return { name, onnx, input: path.join(dir, `${name}.input.npy`), output: path.join(dir, `${name}.output.npy`) };
}

// The model names models/export.py knows (keys of its MODELS table).
function exportableModels() {
  try {
    const src = readFileSync(path.join(ROOT, 'models', 'export.py'), 'utf8');
    const block = /^MODELS = \{([\s\S]*?)^\}/m.exec(src)?.[1] ?? '';
    return [...block.matchAll(/^\s+"(\w+)":/gm)].map((m) => m[1]);
  } catch {
    return [];
  }
}

function ensureModels(o) {
  const files = o.models.map((m) => modelFiles(m, o.opset));
  const known = exportableModels();
  const missing = files.filter((f, i) => !o.models[i].endsWith('.onnx') && known.includes(f.name) &&
    (!existsSync(f.onnx) || !existsSync(f.input)));
  if (!missing.length) return files;
  const names = missing.map((f) => f.name);
  console.log(`exporting test models ${names.join(', ')} (models/export.py) ...`);
  const r = sh('/usr/bin/python3', [path.join(ROOT, 'models', 'export.py'), '--out', path.join(ROOT, 'models', 'out'),
    '--only', names.join(',')], { stdio: ['ignore', 'inherit', 'pipe'] });
  if (!r.ok) console.log(`  export failed: ${lastLines(r.stderr, 4)}`);
  return o.models.map((m) => modelFiles(m, o.opset));
}

function machineInfo(ortVersion, evoPath, buildNote) {
  let cpu = 'unknown';
  try {
    cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch { /* not Linux */ }
  let flags = '';
  try {
    const f = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.split(' ') ?? [];
    flags = ['avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx_vnni', 'amx_tile'].filter((x) => f.includes(x)).join(' ');
  } catch { /* not Linux */ }
  const git = (args) => sh('git', ['-C', ROOT, ...args]).stdout.trim();
  const dirty = git(['status', '--porcelain', '--untracked-files=no', '--', 'src', 'include', 'tools', 'CMakeLists.txt', 'cmake']);
  return {
    date: new Date().toISOString(),
    cpu,
    cpu_flags: flags,
    logical_cpus: os.cpus().length,
    memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    ort_version: ortVersion,
    evo_git: (git(['rev-parse', '--short', 'HEAD']) || 'unknown') + (dirty ? '+dirty' : ''),
    evo_binary: path.relative(ROOT, evoPath) || evoPath,
    build_note: buildNote,
    loadavg_start: os.loadavg().map((x) => +x.toFixed(2)),
  };
}

// ---------------------------------------------------------------- engines

// The same pseudo-random input `evo bench` fills (tools/evo/cmd_bench.c):
// a 64-bit LCG, value = ((s >> 40) & 0xffff) / 65536, so both engines time
// the same data.
function benchInput(count) {
  const out = new Float32Array(count);
  let s = 0x9e3779b97f4a7c15n;
  const M = 6364136223846793005n, C = 1442695040888963407n;
  for (let k = 0; k < count; k++) {
    s = BigInt.asUintN(64, s * M + C);
    out[k] = Number((s >> 40n) & 0xffffn) / 65536;
  }
  return out;
}

function concreteShape(meta, saved) {
  if (saved) return saved.shape;
  return meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
}

function zeroTensor(ort, type, shape) {
  const n = shape.reduce((a, b) => a * b, 1);
  const ctor = { float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array,
    uint8: Uint8Array, int8: Int8Array, bool: Uint8Array }[type];
  if (!ctor) throw new Error(`input type ${type} is not supported by the benchmark`);
  return new ort.Tensor(type, new ctor(n), shape);
}

class OrtEngine {
  constructor(ort, session, feedsTiming, feedsSaved, fetches) {
    this.ort = ort;
    this.session = session;
    this.feedsTiming = feedsTiming;
    this.feedsSaved = feedsSaved;
    this.fetches = fetches;
  }

  static async create(ort, file, threads) {
    const session = await ort.InferenceSession.create(file.onnx, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      logSeverityLevel: 3,
    });
    const saved = existsSync(file.input) ? readNpy(file.input) : null;
    const feedsTiming = {}, feedsSaved = {};
    session.inputNames.forEach((name, i) => {
      const meta = session.inputMetadata?.[i] ?? { type: 'float32', shape: [] };
      const s = i === 0 ? saved : null;
      const shape = concreteShape(meta, s);
      const n = shape.reduce((a, b) => a * b, 1);
      if (meta.type === 'float32') {
        feedsTiming[name] = new ort.Tensor('float32', benchInput(n), shape);
        if (s) feedsSaved[name] = new ort.Tensor('float32', Float32Array.from(s.data), s.shape);
      } else {
        feedsTiming[name] = zeroTensor(ort, meta.type, shape);
      }
      if (!feedsSaved[name]) feedsSaved[name] = feedsTiming[name];
    });
    // Timed runs write into preallocated output tensors, as a native caller
    // would: otherwise every run allocates fresh JS memory for the outputs
    // (about 10 ms of page faults per run for YOLOv5s's 8.6 MB output).
    let fetches = null;
    try {
      const first = await session.run(feedsTiming);
      fetches = {};
      for (const name of session.outputNames)
        fetches[name] = zeroTensor(ort, first[name].type, first[name].dims.map(Number));
      await session.run(feedsTiming, fetches);
    } catch {
      fetches = null;
    }
    return new OrtEngine(ort, session, feedsTiming, feedsSaved, fetches);
  }

  async runOnce() {
    const t0 = process.hrtime.bigint();
    const out = this.fetches ? await this.session.run(this.feedsTiming, this.fetches) : await this.session.run(this.feedsTiming);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (!this.fetches) for (const v of Object.values(out)) v.dispose?.();
    return ms;
  }

  // Warm-up, then `runs` timed runs (capped by the time budget).
  async round(warmup, runs, budgetMs) {
    let est = 0;
    for (let i = 0; i < Math.max(1, warmup); i++) est = await this.runOnce();
    const n = Math.max(1, Math.min(runs, Math.floor(budgetMs / Math.max(est, 1e-3))));
    const times = [];
    for (let i = 0; i < n; i++) times.push(await this.runOnce());
    return { p50_ms: median(times), times };
  }

  async outputs() {
    const out = await this.session.run(this.feedsSaved);
    return this.session.outputNames.map((name) => ({ name, shape: out[name].dims.map(Number), data: Float32Array.from(out[name].data) }));
  }

  release() {
    return this.session.release?.();
  }
}

function evoBench(o, file, threads, warmup, runs) {
  const args = ['bench', file.evoModel ?? file.onnx, '--threads', String(threads), '--warmup', String(warmup), '--runs', String(runs), '--json'];
  const r = sh(o.evo, args, { timeout: 30 * 60 * 1000 });
  if (!r.ok) {
    const why = r.error?.code === 'ETIMEDOUT' ? 'timed out' : lastLines(r.stderr || r.stdout || `exit ${r.status}`);
    return { error: why };
  }
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  try {
    return JSON.parse(line);
  } catch {
    return { error: `unparsable output: ${lastLines(r.stdout)}` };
  }
}

function evoOutputs(o, file, threads, nOutputs, tmp) {
  const outs = Array.from({ length: nOutputs }, (_, i) => path.join(tmp, `out${i}.npy`));
  const args = ['run', file.evoModel ?? file.onnx, '--threads', String(threads), '--input', file.input];
  for (const p of outs) args.push('--output', p);
  const r = sh(o.evo, args, { timeout: 30 * 60 * 1000 });
  if (!r.ok) return { error: lastLines(r.stderr || r.stdout || `exit ${r.status}`) };
  return { outputs: outs.map((p) => readNpy(p)) };
}

// The detector preset evo quantize calibrates a model with (the classifiers take the default letterbox).
const PRESETS = { yolov5s: 'yolov5', yolov5n: 'yolov5', yolov8n: 'yolov8', yolox_nano: 'yolox',
  nanodet_m_416: 'nanodet', picodet_s_416_coco: 'picodet' };

// --int8: quantizes file with evo quantize into tmp; returns the int8 row's files (evo runs the .evo,
// ORT its QDQ export) or { error }.
function quantizeModel(o, file, tmp) {
  const dir = o.int8Dir ?? tmp;
  const all = o.int8All.includes(file.name), tag = all ? 'int8-all' : 'int8';
  const evoModel = path.join(dir, `${file.name}.${tag}.evo`), qdq = path.join(dir, `${file.name}${all ? '.int8-all' : ''}.qdq.onnx`);
  const row = { ...file, name: `${file.name} ${tag}`, onnx: qdq, evoModel, output: '', int8: true, fp32Name: file.name };
  if (o.int8Dir) {
    mkdirSync(dir, { recursive: true });
    const src = statSync(file.onnx).mtimeMs;
    if ([evoModel, qdq].every((f) => existsSync(f) && statSync(f).mtimeMs > src)) {
      console.log(`   reusing ${evoModel}, ${path.basename(qdq)}`);
      return row;
    }
  }
  const args = ['quantize', file.onnx, '--calib', o.calib, '--calib-count', String(o.calibCount), '-o', evoModel,
    '--qdq', qdq];
  if (PRESETS[file.name]) args.push('--preset', PRESETS[file.name]);
  if (all) args.push('--int8-all');
  const t0 = Date.now();
  const r = sh(o.evo, args, { timeout: 30 * 60 * 1000 });
  if (!r.ok) return { error: `evo quantize: ${lastLines(r.stderr || r.stdout || `exit ${r.status}`)}` };
  console.log(`   quantized in ${((Date.now() - t0) / 1e3).toFixed(1)} s: ${path.basename(evoModel)}, ${path.basename(qdq)}`);
  return row;
}

// max |a - b| and max |ref|; a NaN anywhere counts as an infinite error.
function agreement(got, ref) {
  const same = got.shape.length === ref.shape.length && got.shape.every((d, i) => d === ref.shape[i]);
  if (!same || got.data.length !== ref.data.length)
    return { ok: false, note: `shape ${JSON.stringify(got.shape)} vs ${JSON.stringify(ref.shape)}` };
  let maxDiff = 0, maxRef = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const a = Number(got.data[i]), b = Number(ref.data[i]);
    const d = Math.abs(a - b);
    if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d);
    if (Math.abs(b) > maxRef) maxRef = Math.abs(b);
  }
  const rel = maxRef > 0 ? maxDiff / maxRef : maxDiff;
  return { ok: maxDiff <= 1e-4 * maxRef, max_abs_diff: maxDiff, max_abs_ref: maxRef, rel };
}

// SQNR of got against ref in dB: 10 log10(sum ref^2 / sum (got - ref)^2); Infinity when equal.
function sqnr(got, ref) {
  if (got.data.length !== ref.data.length) return NaN;
  let sig = 0, noise = 0;
  for (let i = 0; i < ref.data.length; i++) {
    const b = Number(ref.data[i]), d = Number(got.data[i]) - b;
    sig += b * b;
    noise += d * d;
  }
  if (Number.isNaN(noise)) return NaN;
  return noise === 0 ? Infinity : 10 * Math.log10(sig / noise);
}

// An int8 row is ok when, on every output, evo's int8 model is at least as close to the fp32 model
// (ORT's fp32 outputs of the fp32 row, on the same input) as ORT running the QDQ export of that int8
// model, less this margin: int8 outputs of a detector are ~16 dB from fp32 for both engines, so their
// element-wise difference says nothing, while a kernel error in either shows as a lower SQNR.
const INT8_SQNR_MARGIN_DB = 1;

function checkNumerics(o, file, threads, ortOut, tmp, fp32Ref) {
  const res = { threads };
  const ev = evoOutputs(o, file, threads, ortOut.length, tmp);
  if (ev.error) return { ...res, ok: false, error: `evo run: ${ev.error}` };
  res.evo_vs_ort = ortOut.map((ref, i) => {
    const a = agreement(ev.outputs[i], ref);
    if (!file.int8 || a.note) return { output: ref.name, ...a };
    a.sqnr_evo_ort = sqnr(ev.outputs[i], ref);
    const fp = fp32Ref?.[i];
    if (!fp || fp.data.length !== ref.data.length) {
      a.ok = false;
      a.note = 'no fp32 reference outputs (the fp32 row failed or was not checked)';
    } else {
      a.sqnr_evo_fp32 = sqnr(ev.outputs[i], fp);
      a.sqnr_ort_fp32 = sqnr(ref, fp);
      a.ok = a.sqnr_evo_fp32 >= a.sqnr_ort_fp32 - INT8_SQNR_MARGIN_DB;
    }
    return { output: ref.name, ...a };
  });
  if (existsSync(file.output)) {
    const torch = readNpy(file.output);
    res.evo_vs_torch = agreement(ev.outputs[0], torch);
    res.ort_vs_torch = agreement(ortOut[0], torch);
  }
  res.ok = res.evo_vs_ort.every((a) => a.ok);
  return res;
}

// ---------------------------------------------------------------- report

const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const sci = (x) => (Number.isFinite(x) ? x.toExponential(1) : String(x));

const db = (x) => (Number.isFinite(x) ? x.toFixed(1) : String(x));

function agreeCell(num) {
  if (!num) return 'not checked';
  if (num.error) return `ERROR`;
  const bad = num.evo_vs_ort.find((a) => !a.ok);
  if (num.evo_vs_ort[0]?.sqnr_evo_ort !== undefined || num.evo_vs_ort[0]?.sqnr_evo_fp32 !== undefined) {
    /* int8: the output whose SQNR against fp32 is lowest for evo, or the failing one */
    const worst = bad ?? num.evo_vs_ort.reduce((w, a) => (a.sqnr_evo_fp32 < w.sqnr_evo_fp32 ? a : w));
    if (worst.note) return `NO (${worst.note})`;
    return `${worst.ok ? 'ok' : 'NO'} SQNR vs fp32 evo ${db(worst.sqnr_evo_fp32)} / ORT ${db(worst.sqnr_ort_fp32)} dB` +
      ` (evo vs ORT ${db(worst.sqnr_evo_ort)} dB)`;
  }
  const worst = bad ?? num.evo_vs_ort.reduce((w, a) => (a.rel > w.rel ? a : w));
  if (worst.note) return `NO (${worst.note})`;
  return `${worst.ok ? 'ok' : 'NO'} ${sci(worst.max_abs_diff)} (${sci(worst.rel)} rel)`;
}

// The evo/ORT ratio the fp32 rows are held to; the table shows what share of the FMA peak it asks of evo.
const TARGET_RATIO = 0.8;

// x as a percentage of the FMA peak evo measured for the row's thread count ('-' without one).
const pctPeak = (r, gflops) => (r.evo?.peak_gflops > 0 && Number.isFinite(gflops) ?
  `${Math.round((100 * gflops) / r.evo.peak_gflops)} %` : '-');

function table(rows) {
  const head = ['model', 'threads', 'ORT p50 ms', 'evo p50 ms', 'evo/ORT', 'evo GFLOP/s', 'ORT GFLOP/s',
    'evo % peak', `${TARGET_RATIO}x needs`, 'agree (max err)'];
  const body = rows.map((r) => [
    r.model, String(r.threads), fmt(r.ort?.p50_ms), r.evo?.error ? 'ERROR' : fmt(r.evo?.p50_ms),
    Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}x` : '-', fmt(r.evo?.gflops, 1),
    fmt(r.ort?.gflops, 1), pctPeak(r, r.evo?.gflops), pctPeak(r, r.ort?.gflops / TARGET_RATIO), agreeCell(r.numerics),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

// A cache line's round trip between the threads (`evo bench`'s handoff) above this: the CPUs were a socket
// apart, not sharing a cache (about 60 ns when they do, 330-400 ns measured when not).
const FAR_HANDOFF_NS = 200;

function notes(rows) {
  const out = [];
  for (const r of rows) {
    const tag = `${r.model} @${r.threads}t`;
    if (Number.isFinite(r.other_load_cpus)) out.push(`- ${tag}: other processes kept ${r.other_load_cpus} of the machine's CPUs busy during this row`);
    if (r.ort?.error) out.push(`- ${tag}: ORT error: ${r.ort.error}`);
    else if (r.ort?.round_p50_ms) out.push(`- ${tag}: ORT round p50s ${r.ort.round_p50_ms.map((x) => fmt(x)).join(', ')} ms ` +
      `(${r.ort.runs_per_round} runs/round; median of all ${r.ort.n_runs} runs ${fmt(r.ort.all_runs_median_ms)} ms)`);
    if (r.evo?.error) out.push(`- ${tag}: evo error: ${r.evo.error}`);
    if (r.int8 && Number.isFinite(r.evo_int8_vs_fp32))
      out.push(`- ${tag}: evo int8 / evo fp32 = ${r.evo_int8_vs_fp32.toFixed(2)}x (ORT runs evo's QDQ export of the same int8 model)`);
    else if (r.evo?.round_p50_ms) out.push(`- ${tag}: evo round p50s ${r.evo.round_p50_ms.map((x) => fmt(x)).join(', ')} ms ` +
      `(${r.evo.runs_per_round} runs/round, ${fmt(r.evo.gflop, 3)} GFLOP/run)`);
    const handoffs = r.evo?.round_handoff_ns;
    const far = (handoffs ?? []).filter((ns) => ns > FAR_HANDOFF_NS).length;
    if (handoffs) out.push(`- ${tag}: handoff after each evo round ${handoffs.join(', ')} ns` +
      (far ? ` (${far} over ${FAR_HANDOFF_NS} ns: the CPUs sat far apart, where both engines lose most of ` +
        'their 2-thread speed-up)' : ''));
    const serial = r.evo?.round_serial_runs;
    if (serial?.some((n) => n > 0)) out.push(`- ${tag}: evo runs on the calling thread alone (measured faster ` +
      `than ${r.threads} threads then, or timing that way) in each round: ${serial.join(', ')} of ${r.evo.runs_per_round}`);
    if (r.numerics?.error) out.push(`- ${tag}: numerics: ${r.numerics.error}`);
    else if (r.numerics?.evo_vs_torch) {
      const t = r.numerics;
      out.push(`- ${tag}: vs PyTorch: evo ${sci(t.evo_vs_torch.max_abs_diff)} (${sci(t.evo_vs_torch.rel)} rel), ` +
        `ORT ${sci(t.ort_vs_torch.max_abs_diff)} (${sci(t.ort_vs_torch.rel)} rel), max|torch| ${fmt(t.evo_vs_torch.max_abs_ref ?? t.ort_vs_torch.max_abs_ref, 3)}`);
    }
  }
  return out.join('\n');
}

function machineLines(m) {
  return [
    `CPU: ${m.cpu} (${m.logical_cpus} logical CPUs; ${m.cpu_flags || 'no AVX2'}), ${m.memory_gib} GiB, ${m.kernel}`,
    `ONNX Runtime ${m.ort_version} (onnxruntime-node, CPU EP, graph optimization 'all'), Node ${m.node}`,
    `evo ${m.evo_git} (${m.evo_binary}${m.evo_sha256 ? `, sha256 ${m.evo_sha256}` : ''})${m.build_note ? `; ${m.build_note}` : ''}`,
    `load average at start ${m.loadavg_start.join(' ')}, at end ${m.loadavg_end.join(' ')}`,
  ].join('\n');
}

// ---------------------------------------------------------------- main

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const ort = (await import('onnxruntime-node')).default;
  const ortVersion = ort.env?.versions?.node ?? JSON.parse(readFileSync(path.join(BENCH, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')).version;
  const buildNote = o.ortOnly ? 'evo not run' : buildEvo(o);
  if (!o.ortOnly && !existsSync(o.evo)) throw new Error(`no evo binary at ${o.evo}`);
  const files = ensureModels(o);
  const machine = machineInfo(ortVersion, o.evo, buildNote);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'evo-bench-'));
  if (!o.ortOnly) {
    // Time one fixed binary: build/evo may be rebuilt by someone else while we run.
    const copy = path.join(tmp, 'evo');
    copyFileSync(o.evo, copy);
    machine.evo_sha256 = createHash('sha256').update(readFileSync(copy)).digest('hex').slice(0, 12);
    o.evo = copy;
  }
  console.log(`runs ${o.runs}/round, ${o.rounds} rounds, warm-up ${o.warmup}, budget ${o.budget} s/engine/round, threads ${o.threads.join(',')}`);

  const rows = [];
  const fp32Outputs = new Map(); // model name -> ORT's fp32 outputs, the int8 rows' reference
  let flip = 0;
  try {
    if (o.int8 && !o.ortOnly) {
      if (!existsSync(o.calib)) throw new Error(`--int8: no calibration images at ${o.calib} (--calib DIR)`);
      for (let i = files.length - 1; i >= 0; i--) {
        if (!existsSync(files[i].onnx)) continue;
        console.log(`\n== quantizing ${files[i].name}`);
        const q = quantizeModel(o, files[i], tmp);
        if (q.error) console.log(`   ${q.error}`);
        else files.splice(i + 1, 0, q);
      }
    }
    for (const file of files) {
      for (const threads of o.threads) {
        const rel = path.relative(ROOT, file.onnx);
        const row = { model: file.name, file: rel.startsWith('..') ? file.onnx : rel, threads };
        rows.push(row);
        console.log(`\n== ${row.file}, ${threads} thread(s)`);
        if (!existsSync(file.onnx)) {
          row.ort = { error: 'model file missing' };
          row.evo = { error: 'model file missing' };
          console.log('   model file missing');
          continue;
        }
        const cpu0 = cpuSample();
        let eng = null;
        try {
          eng = await OrtEngine.create(ort, file, threads);
        } catch (e) {
          row.ort = { error: String(e.message ?? e).split('\n')[0] };
          console.log(`   ORT: ${row.ort.error}`);
        }
        // A model without a saved input (the pretrained detectors) is
        // checked on the timing input, written once as .npy for `evo run`.
        if (eng && !existsSync(file.input)) {
          const first = eng.session.inputNames[0];
          const t = eng.feedsTiming[first];
          if (t?.type === 'float32') {
            file.input = path.join(tmp, `${file.name}.input.npy`);
            writeNpyF32(file.input, t.dims.map(Number), t.data);
          }
        }
        // Numerics first: it also tells early whether evo runs the model.
        if (o.numerics && !o.ortOnly && eng && existsSync(file.input)) {
          try {
            const ortOut = await eng.outputs();
            row.numerics = checkNumerics(o, file, threads, ortOut, tmp, fp32Outputs.get(file.fp32Name));
            if (!file.int8 && !fp32Outputs.has(file.name)) fp32Outputs.set(file.name, ortOut);
          } catch (e) {
            row.numerics = { ok: false, error: String(e.message ?? e).split('\n')[0] };
          }
          console.log(`   agreement: ${row.numerics.error ? `ERROR ${row.numerics.error}` : agreeCell(row.numerics)}`);
        }
        // One untimed-for-the-result probe run of evo: fails fast on an
        // unsupported model and sizes the per-round run count.
        const probe = o.ortOnly ? null : evoBench(o, file, threads, 0, 1);
        let evoRuns = o.runs;
        if (!probe) {
          row.evo = null;
        } else if (probe.error) {
          row.evo = { error: probe.error };
          console.log(`   evo: ${probe.error}`);
        } else {
          evoRuns = Math.max(1, Math.min(o.runs, Math.floor((o.budget * 1000) / Math.max(probe.p50_ms, 1e-3))));
          row.evo = { round_p50_ms: [], runs_per_round: evoRuns, gflop: probe.gflop };
        }
        if (row.ort?.error === undefined && eng) row.ort = { round_p50_ms: [], times: [], preallocated_outputs: !!eng.fetches };
        for (let k = 0; k < o.rounds; k++) {
          const order = (k + flip) % 2 === 0 ? ['ort', 'evo'] : ['evo', 'ort'];
          const parts = [];
          for (const which of order) {
            if (which === 'ort' && eng && !row.ort.error) {
              const r = await eng.round(o.warmup, o.runs, o.budget * 1000);
              row.ort.round_p50_ms.push(r.p50_ms);
              row.ort.times.push(...r.times);
              row.ort.runs_per_round = r.times.length;
              parts.push(`ORT ${fmt(r.p50_ms)}`);
            } else if (which === 'evo' && row.evo && !row.evo.error) {
              const r = evoBench(o, file, threads, o.warmup, evoRuns);
              if (r.error) {
                row.evo = { error: `round ${k + 1}: ${r.error}` };
                parts.push('evo ERROR');
              } else {
                row.evo.round_p50_ms.push(r.p50_ms);
                row.evo.gflop = r.gflop;
                if (r.peak_gflops > 0) (row.evo.round_peak_gflops ??= []).push(r.peak_gflops);
                const handoff = threads > 1 && r.handoff_ns > 0;
                if (handoff) (row.evo.round_handoff_ns ??= []).push(r.handoff_ns);
                if (threads > 1 && Number.isFinite(r.serial_runs)) (row.evo.round_serial_runs ??= []).push(r.serial_runs);
                parts.push(`evo ${fmt(r.p50_ms)}` + (handoff ? ` (handoff ${r.handoff_ns} ns)` : ''));
              }
            }
          }
          console.log(`   round ${k + 1}/${o.rounds}: ${parts.join(', ')} ms`);
        }
        row.other_load_cpus = +otherLoad(cpu0, cpuSample()).toFixed(2);
        if (row.other_load_cpus >= 0.25) console.log(`   warning: other processes kept ${row.other_load_cpus} CPUs busy meanwhile`);
        flip++;
        if (eng) await eng.release();
        if (row.ort && !row.ort.error) {
          row.ort.p50_ms = median(row.ort.round_p50_ms);
          row.ort.all_runs_median_ms = median(row.ort.times);
          row.ort.n_runs = row.ort.times.length;
        }
        if (row.evo && !row.evo.error) {
          row.evo.p50_ms = median(row.evo.round_p50_ms);
          row.evo.gflops = row.evo.gflop / (row.evo.p50_ms / 1e3);
          if (row.ort?.p50_ms) row.ort.gflops = row.evo.gflop / (row.ort.p50_ms / 1e3);
          if (row.evo.round_peak_gflops && !file.int8) row.evo.peak_gflops = median(row.evo.round_peak_gflops);
        }
        row.ratio = row.evo?.p50_ms / row.ort?.p50_ms;
        if (file.int8) {
          row.int8 = true;
          const fp = rows.find((r) => r.model === file.fp32Name && r.threads === threads);
          row.evo_int8_vs_fp32 = row.evo?.p50_ms / fp?.evo?.p50_ms;
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  machine.loadavg_end = os.loadavg().map((x) => +x.toFixed(2));

  const tbl = table(rows);
  const nts = notes(rows);
  const method = `p50 = median over ${o.rounds} interleaved rounds of each round's median run time ` +
    `(up to ${o.runs} timed runs per engine per round after ${o.warmup} warm-up runs, capped at ~${o.budget} s per engine per round; ` +
    'engine order alternates). evo is timed by `evo bench` (session run only, input pre-filled); ORT by session.run() ' +
    'from Node into preallocated output tensors (includes the binding overhead, about 0.03 ms). GFLOP/s use the FLOP count evo reports for the model. ' +
    '% peak: of the fp32 FMA peak `evo bench` measures on the row\'s threads (median of its rounds); ' +
    `${TARGET_RATIO}x needs: ` +
    `the share of that peak evo would have to reach to run in ${TARGET_RATIO} x ORT's time (nominal FLOPs: ` +
    'models with Winograd layers can pass 100 %). ' +
    'agree: max |evo - ORT| on the saved input (the timing input for models without one), ok if <= 1e-4 * max|ORT| (rel = max diff / max|ORT|); ' +
    'int8 rows: ORT runs the QDQ ONNX evo exports of the int8 model evo runs; SQNR (dB) of each engine\'s int8 outputs ' +
    'against ORT\'s fp32 outputs of the fp32 model on the same input, ok if on every output evo\'s is at least ' +
    `ORT's less ${INT8_SQNR_MARGIN_DB} dB (worst output shown, with evo's int8 outputs against ORT's).`;
  console.log(`\n${machineLines(machine)}\n\n${tbl}\n\n${nts}\n\n${method}`);

  mkdirSync(o.out, { recursive: true });
  const stamp = machine.date.replace(/[:]/g, '').replace(/\..*/, '');
  for (const r of rows) if (r.ort?.times) r.ort.times = r.ort.times.map((x) => +x.toFixed(4));
  const json = JSON.stringify({ machine, options: { ...o, evo: machine.evo_binary, out: undefined }, method, rows }, null, 1);
  const md = `# evo vs ONNX Runtime, ${machine.date}\n\n${machineLines(machine).split('\n').map((l) => `- ${l}`).join('\n')}\n\n` +
    `${tbl}\n\n${nts}\n\n${method}\n`;
  for (const name of [`compare-${stamp}`, 'latest']) {
    writeFileSync(path.join(o.out, `${name}.json`), json + '\n');
    writeFileSync(path.join(o.out, `${name}.md`), md);
  }
  console.log(`\nwrote ${path.relative(process.cwd(), path.join(o.out, `compare-${stamp}.{json,md}`))} (and latest.{json,md})`);
}

main().catch((e) => {
  console.error(`bench/compare: ${e.message ?? e}`);
  process.exit(1);
});
