// layers.mjs - per-layer times of evo and ONNX Runtime on one model, side
// by side: ORT's own profiler (enableProfiling) against `evo bench
// --profile --json`, joined by node name or by the output tensor a fused
// node writes. Run as `bench/compare --layers MODEL
// [--threads N] [--runs R] [--evo PATH]`; MODEL is a name from models/out
// (yolov5s, resnet18, ...) or an .onnx path. Each engine runs alone, one
// after the other, so the totals are rougher than bench/compare's; the
// point is which layers differ.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const USAGE = 'usage: bench/compare --layers MODEL [--threads N] [--runs R] [--evo PATH]';

function parseArgs(argv) {
  const o = { model: null, threads: 1, runs: 20, evo: path.join(ROOT, 'build', 'evo') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--threads') o.threads = Number(next());
    else if (a === '--runs') o.runs = Number(next());
    else if (a === '--evo') o.evo = next();
    else if (a === '--help') { console.log(USAGE); process.exit(0); }
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}\n${USAGE}`);
    else o.model = a;
  }
  if (!o.model) throw new Error(USAGE);
  if (!(o.threads >= 1 && o.runs >= 3)) throw new Error('--threads must be >= 1 and --runs >= 3');
  if (!o.model.endsWith('.onnx')) {
    const dir = path.join(ROOT, 'models', 'out');
    const found = existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith(`${o.model}_op`) && f.endsWith('.onnx')).sort() : [];
    if (!found.length) throw new Error(`no models/out/${o.model}_op*.onnx (make models)`);
    o.model = path.join(dir, found[found.length - 1]);
  }
  return o;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

// ORT per-node kernel times (ms, median over the runs after 3 warm-ups), keyed by the
// node's output tensor (ORT renames the nodes it fuses or converts after their outputs).
async function ortLayers(o) {
  const ort = (await import('onnxruntime-node')).default;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'evo-layers-'));
  try {
    const s = await ort.InferenceSession.create(o.model, {
      executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: o.threads,
      interOpNumThreads: 1, executionMode: 'sequential', enableProfiling: true,
      profileFilePrefix: path.join(dir, 'ort'),
    });
    const feeds = {};
    for (const name of s.inputNames) {
      const meta = s.inputMetadata.find((m) => m.name === name);
      const shape = meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
      feeds[name] = new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5), shape);
    }
    for (let i = 0; i < o.runs + 3; i++) await s.run(feeds);
    s.endProfiling();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    const per = new Map();
    for (const e of JSON.parse(readFileSync(path.join(dir, file), 'utf8'))) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
      const name = e.name.slice(0, -'_kernel_time'.length).replace(/_nchwc$/, '');
      if (!per.has(name)) per.set(name, { op: e.args?.op_name ?? '?', t: [] });
      per.get(name).t.push(e.dur / 1000);
    }
    const out = new Map();
    for (const [name, v] of per) out.set(name, { op: v.op, ms: median(v.t.length > 3 ? v.t.slice(3) : v.t) });
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// evo's steps from `evo bench --profile --json` (plan order, mean ms over the runs).
function evoLayers(o) {
  const r = spawnSync(o.evo, ['bench', o.model, '--threads', String(o.threads), '--runs', String(o.runs), '--profile', '--json'],
    { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`evo bench failed: ${r.stderr || r.stdout}`);
  return JSON.parse(r.stdout).layers;
}

// The ORT nodes that do an evo step's work: ORT names a node after the
// node itself, after the output of the op it was fused from (Conv's own
// output even when an Add and Relu were fused into it), and keeps some
// activations apart (SiLU as a QuickGelu node named after the Mul).
function ortKeys(step) {
  const base = step.output.replace(/_output_0$/, '');
  return [...new Set([step.node, `${step.node}_output_0`, step.output, base, `${base}/QuickGeluFusion/`])];
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const ortT = await ortLayers(o), steps = evoLayers(o);
  const used = new Set();
  const rows = steps.map((st) => {
    let ms = null;
    for (const k of ortKeys(st)) {
      if (!ortT.has(k) || used.has(k)) continue;
      used.add(k);
      ms = (ms ?? 0) + ortT.get(k).ms;
    }
    return { name: st.node, op: st.op, kernel: st.kernel, evo: st.ms, ort: ms };
  });
  const matched = rows.filter((r) => r.ort !== null);
  const sum = (xs, f) => xs.reduce((a, r) => a + f(r), 0);
  const others = [...ortT].filter(([n]) => !used.has(n));
  console.log(`${path.basename(o.model)}, ${o.threads} thread(s), ${o.runs} runs (evo: mean per layer; ORT: median)`);
  console.log(`evo steps ${sum(rows, (r) => r.evo).toFixed(2)} ms; ORT nodes ${sum([...ortT.values()], (v) => v.ms).toFixed(2)} ms, ` +
    `of which ${others.length} without an evo step ${sum(others, ([, v]) => v.ms).toFixed(2)} ms ` +
    `(layout reorders, ops evo runs as views or fuses: ${[...new Set(others.map(([, v]) => v.op))].join(', ')})`);
  const byKernel = new Map();
  for (const r of matched) {
    const k = `${r.op}/${r.kernel}`, v = byKernel.get(k) ?? { evo: 0, ort: 0, n: 0 };
    v.evo += r.evo; v.ort += r.ort; v.n++; byKernel.set(k, v);
  }
  console.log('\nby evo kernel              layers   evo ms   ORT ms  evo/ORT');
  for (const [k, v] of [...byKernel].sort((a, b) => (b[1].evo - b[1].ort) - (a[1].evo - a[1].ort)))
    console.log(`${k.padEnd(26)}${String(v.n).padStart(6)} ${v.evo.toFixed(2).padStart(8)} ${v.ort.toFixed(2).padStart(8)} ${(v.evo / v.ort).toFixed(2).padStart(7)}x`);
  console.log('\nlayer (evo node)                      kernel           evo ms   ORT ms  evo-ORT');
  for (const r of matched.sort((a, b) => (b.evo - b.ort) - (a.evo - a.ort)))
    console.log(`${r.name.slice(0, 37).padEnd(38)}${r.kernel.padEnd(15)} ${r.evo.toFixed(3).padStart(8)} ${r.ort.toFixed(3).padStart(8)} ${(r.evo - r.ort >= 0 ? '+' : '') + (r.evo - r.ort).toFixed(3)}`);
  const lone = rows.filter((r) => r.ort === null && r.kernel !== 'view');
  if (lone.length)
    console.log(`\nevo steps with no ORT node of the same name or output: ${lone.map((r) => r.name).join(', ')}`);
}

main().catch((e) => { console.error(`layers: ${e.message}`); process.exit(1); });
