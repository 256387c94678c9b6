"""PyTorch reference of the model slm-train trains (SLM/train/model.c), same names and math:
RMSNorm, RoPE on adjacent pairs (ggml "norm" mode), grouped-query attention, SwiGLU,
untied output. Used to benchmark the C trainer and to cross-check its forward pass."""
import json
import math
import struct

import numpy as np
import torch
import torch.nn.functional as F


class Llama(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        D, V, Fd = c["dim"], c["vocab_size"], c["ffn_dim"]
        self.hd = D // c["n_heads"]
        qd, kvd = c["n_heads"] * self.hd, c["n_kv_heads"] * self.hd
        p = {"token_embd.weight": (V, D), "output_norm.weight": (D,), "output.weight": (V, D)}
        for i in range(c["n_layers"]):
            p.update({f"blk.{i}.attn_norm.weight": (D,), f"blk.{i}.attn_q.weight": (qd, D),
                      f"blk.{i}.attn_k.weight": (kvd, D), f"blk.{i}.attn_v.weight": (kvd, D),
                      f"blk.{i}.attn_output.weight": (D, qd), f"blk.{i}.ffn_norm.weight": (D,),
                      f"blk.{i}.ffn_gate.weight": (Fd, D), f"blk.{i}.ffn_up.weight": (Fd, D),
                      f"blk.{i}.ffn_down.weight": (D, Fd)})
        self.p = torch.nn.ParameterDict({k.replace(".", "_"): torch.nn.Parameter(
            torch.ones(s) if len(s) == 1 else torch.randn(s) * 0.02) for k, s in p.items()})
        T, half = c["seq_len"], self.hd // 2
        freq = c["rope_theta"] ** (-2.0 * torch.arange(half, dtype=torch.float64) / self.hd)
        ang = torch.arange(T, dtype=torch.float64)[:, None] * freq[None, :]
        self.register_buffer("cos", ang.cos().float(), persistent=False)
        self.register_buffer("sin", ang.sin().float(), persistent=False)
        self.register_buffer("mask", torch.ones(T, T, dtype=torch.bool).triu(1), persistent=False)

    def w(self, name):
        return self.p[name.replace(".", "_")]

    def norm(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.c["norm_eps"]) * w

    def rope(self, x):  # x [B, T, H, hd]; rotate pairs (2i, 2i+1)
        T = x.shape[1]
        a, b = x[..., 0::2], x[..., 1::2]
        c, s = self.cos[:T, None, :], self.sin[:T, None, :]
        return torch.stack((a * c - b * s, a * s + b * c), dim=-1).flatten(-2)

    def forward(self, idx, targets):
        c, (B, T) = self.c, idx.shape
        H, KV, hd = c["n_heads"], c["n_kv_heads"], self.hd
        x = F.embedding(idx, self.w("token_embd.weight"))
        for i in range(c["n_layers"]):
            h = self.norm(x, self.w(f"blk.{i}.attn_norm.weight"))
            q = self.rope((h @ self.w(f"blk.{i}.attn_q.weight").T).view(B, T, H, hd)).transpose(1, 2)
            k = self.rope((h @ self.w(f"blk.{i}.attn_k.weight").T).view(B, T, KV, hd)).transpose(1, 2)
            v = (h @ self.w(f"blk.{i}.attn_v.weight").T).view(B, T, KV, hd).transpose(1, 2)
            k, v = k.repeat_interleave(H // KV, dim=1), v.repeat_interleave(H // KV, dim=1)
            s = (q @ k.transpose(-1, -2)) / math.sqrt(hd)   # torch 1.13 has no fused SDPA
            s = s.masked_fill(self.mask[:T, :T], float("-inf"))
            att = torch.softmax(s, dim=-1) @ v
            x = x + att.transpose(1, 2).reshape(B, T, H * hd) @ self.w(f"blk.{i}.attn_output.weight").T
            h = self.norm(x, self.w(f"blk.{i}.ffn_norm.weight"))
            g = F.silu(h @ self.w(f"blk.{i}.ffn_gate.weight").T) * (h @ self.w(f"blk.{i}.ffn_up.weight").T)
            x = x + g @ self.w(f"blk.{i}.ffn_down.weight").T
        logits = self.norm(x, self.w("output_norm.weight")) @ self.w("output.weight").T
        return F.cross_entropy(logits.view(-1, logits.shape[-1]).float(), targets.reshape(-1))

    def load_safetensors(self, path):
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
            data = f.read()
        for name, info in header.items():
            if name == "__metadata__":
                continue
            a, b = info["data_offsets"]
            t = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").copy()).view(info["shape"])
            with torch.no_grad():
                self.w(name).copy_(t)


def optimizer(model, t):
    decay = [p for n, p in model.p.items() if p.dim() == 2]
    no_decay = [p for n, p in model.p.items() if p.dim() == 1]
    return torch.optim.AdamW([{"params": decay, "weight_decay": t["weight_decay"]},
                              {"params": no_decay, "weight_decay": 0.0}],
                             lr=t["lr"], betas=(t["beta1"], t["beta2"]), eps=1e-8)


def lr_at(t, step):
    if t["warmup"] and step < t["warmup"]:
        return t["lr"] * (step + 1) / t["warmup"]
    span = t["steps"] - t["warmup"]
    prog = min(1.0, (step - t["warmup"]) / span) if span > 0 else 0.0
    return t["min_lr"] + 0.5 * (t["lr"] - t["min_lr"]) * (1 + math.cos(math.pi * prog))
