"""Trains the same config for N steps with slm-train (C) and with PyTorch, reports tokens/s,
GFLOP/s and the ratio, and cross-checks the C forward pass against PyTorch on a checkpoint.
slm-train runs on --threads threads; PyTorch runs at every thread count from 1 to --threads
and the ratio is taken against its best (at small shapes one thread can beat two).

  /usr/bin/python3 bench/train/run.py [--preset micro] [--steps 30] [--threads NCPU]
Needs: gcc, python3-torch (Debian), tsx (to write config.json)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ap = argparse.ArgumentParser()
ap.add_argument("--preset", default="micro")
ap.add_argument("--steps", type=int, default=30)
ap.add_argument("--threads", type=int, default=os.cpu_count())
ap.add_argument("--tokens", help="train.bin to use (default: random tokens)")
args = ap.parse_args()
os.environ["OMP_NUM_THREADS"] = str(args.threads)
import torch  # noqa: E402  (after OMP_NUM_THREADS)
sys.path.insert(0, os.path.dirname(__file__))
from model import Llama, optimizer, lr_at  # noqa: E402

tmp = tempfile.mkdtemp(prefix="bench-train-")
binary = os.path.join(tmp, "slm-train")
src = [os.path.join(root, "SLM/train", f) for f in sorted(os.listdir(os.path.join(root, "SLM/train"))) if f.endswith(".c")]
subprocess.run(["gcc", "-O3", "-march=native", "-fopenmp", "-o", binary, *src, "-lm"], check=True)
cfg_path = os.path.join(tmp, "config.json")
subprocess.run(["npx", "tsx", "-e", f"import('{root}/SLM/tools/config.ts').then(m => m.writeConfig('{args.preset}', '{cfg_path}'))"],
               check=True, cwd=root)
c = json.load(open(cfg_path))
c["train"]["steps"], c["train"]["eval_every"], c["train"]["ckpt_every"] = args.steps, 10**9, 10**9
json.dump(c, open(cfg_path, "w"))
t, B, T, V = c["train"], c["train"]["batch_size"], c["seq_len"], c["vocab_size"]
rng = np.random.default_rng(0)
train_bin = args.tokens or os.path.join(tmp, "train.bin")
if not args.tokens:
    rng.integers(0, V, 2_000_000, dtype=np.uint16).tofile(train_bin)
tokens = np.fromfile(train_bin, dtype=np.uint16)
tokens[:50_000].tofile(os.path.join(tmp, "val.bin"))
fpt = c["estimates"]["flops_per_token"]

# C: tokens/s over compute steps, as the trainer logs it (skip the first log interval: warm-up)
out = os.path.join(tmp, "c")
subprocess.run([binary, "--config", cfg_path, "--train", train_bin, "--val", os.path.join(tmp, "val.bin"),
                "--out", out, "--threads", str(args.threads), "--log-every", "5"], check=True, stdout=subprocess.DEVNULL)
log = [json.loads(l) for l in open(os.path.join(out, "train_log.jsonl"))]
rates = [e["tokens_per_s"] for e in log if "tokens_per_s" in e][1:]
c_tok_s = len(rates) / sum(1 / r for r in rates)   # harmonic mean = total tokens / total time

# PyTorch: same model, batch, optimizer and schedule
torch.manual_seed(0)
torch.set_num_threads(args.threads)
model = Llama(c)
opt = optimizer(model, t)
data = torch.from_numpy(tokens.astype(np.int64))
def batch():
    ix = torch.randint(0, len(data) - T - 1, (B,))
    return torch.stack([data[i:i + T + 1] for i in ix])
def pytorch_tok_s(threads):
    torch.set_num_threads(threads)
    times = []
    for step in range(args.steps):
        t0 = time.perf_counter()
        xb = batch()
        for g in opt.param_groups:
            g["lr"] = lr_at(t, step)
        loss = model(xb[:, :-1], xb[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), t["grad_clip"])
        opt.step()
        times.append(time.perf_counter() - t0)
    warm = times[min(5, len(times) - 1):]
    return B * T * len(warm) / sum(warm)
pt = {n: pytorch_tok_s(n) for n in range(1, args.threads + 1)}
best_threads = max(pt, key=pt.get)
pt_tok_s = pt[best_threads]

# Cross-check: the C forward on its own checkpoint vs PyTorch loading that checkpoint.
ckpt = os.path.join(out, "model.safetensors")
ev = json.loads(subprocess.run([binary, "--eval", "--ckpt", ckpt, "--val", os.path.join(tmp, "val.bin"), "--max-tokens", "8192"],
                               check=True, capture_output=True, text=True).stdout)
ref = Llama(c)
ref.load_safetensors(ckpt)
val = torch.from_numpy(np.fromfile(os.path.join(tmp, "val.bin"), dtype=np.uint16).astype(np.int64))
nwin = ev["tokens"] // T
wins = torch.stack([val[i * T:i * T + T + 1] for i in range(nwin)])
with torch.no_grad():
    pt_loss = ref(wins[:, :-1], wins[:, 1:]).item()

print(f"preset {args.preset}: {c['estimates']['params']:,} params, batch {B}x{T}, {args.steps} steps, torch {torch.__version__}")
print(f"slm-train (C), {args.threads} threads: {c_tok_s:9.0f} tokens/s  {c_tok_s * fpt / 1e9:6.1f} GFLOP/s")
for n, r in pt.items():
    print(f"PyTorch, {n} thread(s)   : {r:9.0f} tokens/s  {r * fpt / 1e9:6.1f} GFLOP/s")
print(f"ratio C / PyTorch at its best ({best_threads} thread(s)): {c_tok_s / pt_tok_s:.2f}x")
print(f"forward cross-check on {ev['tokens']} tokens: C loss {ev['val_loss']:.6f}, PyTorch loss {pt_loss:.6f}, diff {abs(ev['val_loss'] - pt_loss):.2e}")
