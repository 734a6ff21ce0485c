"""The demo model: a small Llama-architecture decoder in PyTorch, laid out exactly as GGUF's `llama` expects.

Every choice here is one llama.cpp (and offload's reference decoder) computes the same way:
RMSNorm with a learned scale, rotary positions on adjacent pairs (x[2i], x[2i+1]) -- ggml's "normal" RoPE, so
the Q and K weights go into the GGUF file unpermuted --, grouped-query attention where consecutive query heads
share a key/value head, a SwiGLU feed-forward, a final RMSNorm and an output projection tied to the embedding.
"""
from dataclasses import dataclass, asdict
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelShape:
    vocab: int
    layers: int = 4
    hidden: int = 256
    heads: int = 4
    kv_heads: int = 2
    ffn: int = 768
    context: int = 256
    rope_base: float = 10000.0
    rms_eps: float = 1e-5

    @property
    def head_dim(self):
        return self.hidden // self.heads

    def as_dict(self):
        return asdict(self)


class RmsNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(n))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(shape: ModelShape, positions: int):
    """cos/sin [positions, head_dim/2]: pair i of a head turns by pos * base^(-2i/head_dim)."""
    d = shape.head_dim
    inv = shape.rope_base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    angles = torch.arange(positions, dtype=torch.float64)[:, None] * inv[None, :]
    return torch.cos(angles).float(), torch.sin(angles).float()


def rope_adjacent(x, cos, sin):
    """x [batch, heads, tokens, head_dim]; rotates the adjacent pairs (x[2i], x[2i+1]) as ggml's llama RoPE does."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    r0 = x0 * cos - x1 * sin
    r1 = x0 * sin + x1 * cos
    return torch.stack((r0, r1), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, s: ModelShape):
        super().__init__()
        self.s = s
        kv = s.kv_heads * s.head_dim
        self.attn_norm = RmsNorm(s.hidden, s.rms_eps)
        self.attn_q = nn.Linear(s.hidden, s.hidden, bias=False)
        self.attn_k = nn.Linear(s.hidden, kv, bias=False)
        self.attn_v = nn.Linear(s.hidden, kv, bias=False)
        self.attn_output = nn.Linear(s.hidden, s.hidden, bias=False)
        self.ffn_norm = RmsNorm(s.hidden, s.rms_eps)
        self.ffn_gate = nn.Linear(s.hidden, s.ffn, bias=False)
        self.ffn_up = nn.Linear(s.hidden, s.ffn, bias=False)
        self.ffn_down = nn.Linear(s.ffn, s.hidden, bias=False)

    def forward(self, x, cos, sin, mask):
        s = self.s
        b, t, _ = x.shape
        a = self.attn_norm(x)
        q = self.attn_q(a).view(b, t, s.heads, s.head_dim).transpose(1, 2)
        k = self.attn_k(a).view(b, t, s.kv_heads, s.head_dim).transpose(1, 2)
        v = self.attn_v(a).view(b, t, s.kv_heads, s.head_dim).transpose(1, 2)
        q, k = rope_adjacent(q, cos, sin), rope_adjacent(k, cos, sin)
        group = s.heads // s.kv_heads   # query head h reads key/value head h // group, as llama.cpp
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(s.head_dim) + mask
        o = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, s.hidden)
        x = x + self.attn_output(o)
        f = self.ffn_norm(x)
        return x + self.ffn_down(F.silu(self.ffn_gate(f)) * self.ffn_up(f))


class LlamaModel(nn.Module):
    def __init__(self, s: ModelShape):
        super().__init__()
        self.s = s
        self.token_embd = nn.Embedding(s.vocab, s.hidden)
        self.blocks = nn.ModuleList(Block(s) for _ in range(s.layers))
        self.output_norm = RmsNorm(s.hidden, s.rms_eps)
        cos, sin = rope_tables(s, s.context)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.reset_parameters()

    def reset_parameters(self):
        g = torch.Generator().manual_seed(1611)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * self.s.layers) if name.endswith(("attn_output.weight", "ffn_down.weight")) else 0.02
                with torch.no_grad():
                    p.copy_(torch.randn(p.shape, generator=g) * std)

    def forward(self, tokens):
        """tokens [batch, t] -> logits [batch, t, vocab]."""
        t = tokens.shape[1]
        mask = torch.full((t, t), float("-inf")).triu(1)
        cos, sin = self.cos[:t], self.sin[:t]
        x = self.token_embd(tokens)
        for blk in self.blocks:
            x = blk(x, cos, sin, mask)
        return self.output_norm(x) @ self.token_embd.weight.T   # tied output

    def parameter_count(self):
        return sum(p.numel() for p in self.parameters())
