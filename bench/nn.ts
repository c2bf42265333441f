// npm run bench:nn — GFLOP/s of the reference config's matmul shapes and training tokens/s of the reference
// LLaMA-style model (vocab 4096, d 256, ff 688 SwiGLU, 4 layers, 4 heads, seq 128, batch 8, AdamW), beside the
// PyTorch peer on the same machine and thread count. Writes bench/results/nn.json.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { matmulAB, matmulABt, matmulAtB } from '../core/nn/matmul';
import { getMatmulThreads, setMatmulThreads } from '../core/nn/matmul-threads';
import { AdamW } from '../core/nn/optim';
import { Rng } from '../core/util/rng';
import { alloc, zeroGrad } from '../core/nn/tensor';
import { Transformer } from '../core/nn/transformer';

const threads = Number(process.env.THREADS ?? 2);
const steps = Number(process.env.STEPS ?? 4);
const [V, D, FF, L, H, T, B] = [4096, 256, 688, 4, 4, 128, 8];
const PEER = '/work/shared/peers/torch_transformer.py';
setMatmulThreads(threads);

function timeIt(f: () => void, reps: number): number {
  f();
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) f();
  return (performance.now() - t0) / reps / 1000;
}

const rng = new Rng(0);
const BT = B * T;
const matmuls: { name: string; gflops: number }[] = [];
for (const [label, M, N, K] of [
  ['qkvo  (BT, d)·(d, d)', BT, D, D],
  ['mlp   (BT, d)·(d, ff)', BT, FF, D],
  ['down  (BT, ff)·(ff, d)', BT, D, FF],
  ['head  (BT, d)·(d, vocab)', BT, V, D],
] as const) {
  const a = alloc('f32', Math.max(M, N) * K);
  const b = alloc('f32', Math.max(M, N) * Math.max(N, K));
  const o = alloc('f32', Math.max(M * N, M * K, N * K));
  rng.fillNormal(a);
  rng.fillNormal(b);
  const flops = 2 * M * N * K;
  const reps = Math.max(1, Math.round(2e9 / flops));
  for (const [shape, f] of [
    ['A·Bᵀ fwd', () => matmulABt(o, a, b, M, N, K)],
    ['A·B  dX ', () => matmulAB(o, a, b, M, K, N)],
    ['Aᵀ·B dW ', () => matmulAtB(o, a, b, N, K, M)],
  ] as const) {
    const g = flops / timeIt(f, reps) / 1e9;
    matmuls.push({ name: `${label} ${shape}`, gflops: g });
    console.log(`${label.padEnd(26)} ${shape}  ${g.toFixed(2).padStart(6)} GFLOP/s`);
  }
}

const model = new Transformer(
  {
    flavour: 'llama',
    vocabSize: V,
    hiddenSize: D,
    intermediateSize: FF,
    numLayers: L,
    numHeads: H,
    maxSeqLen: T,
  },
  { seed: 0 },
);
model.training = true;
const params = model.parameters();
const opt = new AdamW(params, { weightDecay: 0.01 });
const data = Int32Array.from({ length: B * (T + 1) }, () => rng.int(V));
const x = new Int32Array(BT);
const y = new Int32Array(BT);
for (let b = 0; b < B; b++)
  for (let t = 0; t < T; t++) {
    x[b * T + t] = data[b * (T + 1) + t];
    y[b * T + t] = data[b * (T + 1) + t + 1];
  }
const times: number[] = [];
let loss = NaN;
for (let s = 0; s < steps + 1; s++) {
  const t0 = performance.now();
  zeroGrad(params);
  loss = model.lmForward(x, B, T, y);
  model.lmBackward();
  opt.step(3e-4);
  if (s >= 1) times.push((performance.now() - t0) / 1000);
}
times.sort((a, b) => a - b);
const stepS = times[Math.floor(times.length / 2)];
const lab = {
  threads: getMatmulThreads(),
  params: params.reduce((n, p) => n + p.size, 0),
  step_s: stepS,
  tokens_per_s: BT / stepS,
  loss,
};
console.log(
  `lab    training: ${lab.tokens_per_s.toFixed(0)} tokens/s (step ${stepS.toFixed(3)} s, ${lab.params} params, ${lab.threads} threads)`,
);

let torch: Record<string, unknown> | null = null;
let peerNote: string | null = null;
if (!existsSync(PEER)) peerNote = `peer ${PEER} is missing; only the lab's figures are reported`;
else {
  try {
    const out = execFileSync('/usr/bin/python3', [PEER, String(threads), String(steps)], {
      encoding: 'utf8',
    });
    torch = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
  } catch (e) {
    peerNote = `peer failed: ${(e as Error).message.split('\n')[0]}`;
  }
}
const ratio = torch ? lab.tokens_per_s / Number(torch.tokens_per_s) : null;
if (torch) {
  console.log(
    `torch  training: ${Number(torch.tokens_per_s).toFixed(0)} tokens/s (step ${Number(torch.step_s).toFixed(3)} s, torch ${String(torch.torch)})`,
  );
  console.log(`ratio lab/torch: ${ratio!.toFixed(3)} (target ≥ 0.5)`);
} else console.log(peerNote);

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/nn.json', import.meta.url),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      config: { V, D, FF, L, H, T, B },
      matmuls,
      lab,
      torch,
      ratio,
      peerNote,
    },
    null,
    2,
  ) + '\n',
);
process.exit(0);
