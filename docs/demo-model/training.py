"""Training and evaluation of the demo model on one CPU thread, resumable from its checkpoint.

The run is budgeted in time, not steps (the machine is shared, so its speed varies): the learning rate warms up
linearly over the first `warmup` steps, then follows a cosine from `peak_lr` down to `final_lr_fraction` of it over
the fraction of the `minutes` budget spent so far, and training stops when the budget is spent. Resuming with a larger
budget trains on, the cosine stretched over the new budget. Each step reads `batch` windows of the training token stream at seeded random offsets (the offsets of step n depend
only on the seed and n, so a resumed run reads what an unbroken one would); a window is BOS followed by `context - 1`
tokens, the way llama.cpp starts every chunk of its perplexity run. AdamW with linear warm-up and cosine decay,
gradient clipping at 1. The checkpoint (model, optimizer, step, losses, seconds spent) is written every
`checkpoint_every` steps and at the end, as a temporary file renamed over the old one.
"""
import math
import os
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from llama_model import LlamaModel, ModelShape
from spm_tokenizer import BOS


@dataclass
class TrainPlan:
    minutes: float = 30.0
    batch: int = 8
    peak_lr: float = 2e-3
    final_lr_fraction: float = 0.1
    warmup: int = 20
    weight_decay: float = 0.1
    seed: int = 1611
    eval_every: int = 30
    eval_chunks: int = 16
    checkpoint_every: int = 20

    def lr(self, step, seconds):
        if step < self.warmup:
            return self.peak_lr * (step + 1) / self.warmup
        progress = min(1.0, seconds / (self.minutes * 60))
        return self.peak_lr * (self.final_lr_fraction + (1 - self.final_lr_fraction) * 0.5 * (1 + math.cos(math.pi * progress)))


def batch_at(stream, step, plan, context):
    g = torch.Generator().manual_seed(plan.seed * 1_000_003 + step)
    starts = torch.randint(0, len(stream) - context, (plan.batch,), generator=g)
    windows = torch.stack([stream[s:s + context] for s in starts.tolist()])
    inputs = torch.cat([torch.full((plan.batch, 1), BOS), windows[:, :-1]], dim=1)
    return inputs, windows


def chunk_nll(model, tokens, context, chunks=None):
    """llama.cpp's perplexity: chunks of `context` tokens, BOS in place of each chunk's first token, the second half
    of each chunk scored. Returns the negative log-likelihoods (nats) of every scored token."""
    n_chunks = len(tokens) // context if chunks is None else min(chunks, len(tokens) // context)
    first = context // 2
    out = []
    model.eval()
    with torch.no_grad():
        for c in range(0, n_chunks, 8):
            rows = []
            for i in range(c, min(c + 8, n_chunks)):
                chunk = list(tokens[i * context:(i + 1) * context])
                chunk[0] = BOS
                rows.append(chunk)
            x = torch.tensor(rows)
            logp = F.log_softmax(model(x).double(), dim=-1)
            pred = logp[:, first:context - 1]
            target = x[:, first + 1:context]
            out.append(-pred.gather(-1, target[..., None])[..., 0].reshape(-1))
    model.train()
    return torch.cat(out)


def perplexity(nll):
    """PPL = exp(mean NLL) and llama.cpp's +/- estimate: PPL * sqrt(var(NLL) / (count - 1))."""
    mean = nll.mean().item()
    var = (nll.pow(2).mean() - nll.mean() ** 2).item()
    return math.exp(mean), math.exp(mean) * math.sqrt(max(var, 0) / (len(nll) - 1))


def train(shape: ModelShape, plan: TrainPlan, stream, held_out, checkpoint_path, log=print):
    torch.manual_seed(plan.seed)
    model = LlamaModel(shape)
    decay = [p for p in model.parameters() if p.dim() == 2]
    keep = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": plan.weight_decay}, {"params": keep, "weight_decay": 0.0}],
                            lr=plan.peak_lr, betas=(0.9, 0.95), eps=1e-8)
    state = {"step": 0, "seconds": 0.0, "train_loss": [], "eval_loss": []}
    if os.path.exists(checkpoint_path):
        saved = torch.load(checkpoint_path)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        state = saved["state"]
        log(f"resumed at step {state['step']} ({state['seconds'] / 60:.1f} min spent)")

    def save():
        tmp = checkpoint_path + ".tmp"
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "state": state,
                    "shape": shape.as_dict()}, tmp)
        os.replace(tmp, checkpoint_path)

    began = time.time()
    spent_before = state["seconds"]
    budget = plan.minutes * 60
    while state["seconds"] < budget:
        step = state["step"]
        lr = plan.lr(step, state["seconds"])
        for group in opt.param_groups:
            group["lr"] = lr
        inputs, targets = batch_at(stream, step, plan, shape.context)
        logits = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, shape.vocab), targets.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state["step"] = step + 1
        state["train_loss"].append(loss.item())
        state["seconds"] = spent_before + time.time() - began
        done = state["seconds"] >= budget
        if state["step"] % plan.eval_every == 0 or done:
            nll = chunk_nll(model, held_out, shape.context, plan.eval_chunks)
            state["eval_loss"].append((state["step"], nll.mean().item()))
            log(f"step {state['step']:4d}  train loss {sum(state['train_loss'][-plan.eval_every:]) / min(plan.eval_every, len(state['train_loss'])):.3f}"
                f"  held-out loss {nll.mean().item():.3f}  lr {lr:.2e}  {state['seconds'] / 60:5.1f} min")
        if state["step"] % plan.checkpoint_every == 0 or done:
            save()
    return model, state
