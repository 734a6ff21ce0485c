"""offload's demo model, made from nothing but Debian packages: the King James Bible, a tokenizer trained on it,
a small Llama-architecture decoder trained on it with one CPU thread, written as GGUF (F32, Q8_0, Q4_0).

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 docs/demo-model/recipe.py [--out DIR] [--minutes M] [--install]

Everything lands in --out (default target/demo-model): the texts, checkpoint.pt, loss.csv, recipe.log, the GGUF files,
summary.json; docs/demo-model/loss.svg is redrawn; --install copies the GGUF files (with SHA256SUMS) into the host's
resources and the held-out excerpt and summary.json into its test resources. Run it again to resume a stopped run.
See README.md beside this file.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # one core: the machine is shared
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import kjv_corpus  # noqa: E402
from llama_model import ModelShape  # noqa: E402
from spm_tokenizer import Vocabulary  # noqa: E402
from training import TrainPlan, chunk_nll, perplexity, train  # noqa: E402

VOCAB_SIZE = 3072
REPO = os.path.dirname(os.path.dirname(HERE))
RESOURCES = os.path.join(REPO, "host", "src", "main", "resources", "dev", "offload", "demo")
TEST_RESOURCES = os.path.join(REPO, "host", "src", "test", "resources", "dev", "offload", "demo")
EXCERPT = "held-out-colossians.txt"
PROMPT = "In the beginning God"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "target", "demo-model"))
    ap.add_argument("--minutes", type=float, default=TrainPlan.minutes,
                    help="the training budget; a stopped run resumes from its checkpoint, a larger budget trains on")
    ap.add_argument("--install", action="store_true", help="copy the GGUF files into host/src/main/resources/dev/offload/demo")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    log_file = open(os.path.join(args.out, "recipe.log"), "a")

    def log(msg):
        print(msg, flush=True)
        log_file.write(msg + "\n")
        log_file.flush()

    t0 = time.time()
    train_text, held_out_text, excerpt_text = kjv_corpus.split_text()
    for name, text in (("train.txt", train_text), ("held-out.txt", held_out_text), (EXCERPT, excerpt_text)):
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            f.write(text)
    vocab = Vocabulary.train(train_text, VOCAB_SIZE)
    stream = torch.tensor(vocab.encode(train_text, bos=False))
    held_out = vocab.encode(held_out_text, bos=True)
    excerpt = vocab.encode(excerpt_text, bos=True)
    log(f"corpus: {len(train_text)} training characters -> {len(stream)} tokens; held out ({kjv_corpus.HELD_OUT_FROM}.."
        f"Revelation) {len(held_out_text)} characters -> {len(held_out)} tokens; vocabulary {len(vocab.tokens)}"
        f" ({time.time() - t0:.1f} s)")

    shape = ModelShape(vocab=len(vocab.tokens))
    plan = TrainPlan(minutes=args.minutes)
    model, state = train(shape, plan, stream, held_out, os.path.join(args.out, "checkpoint.pt"), log)
    write_loss_csv(os.path.join(args.out, "loss.csv"), state)
    import loss_plot
    loss_plot.write_svg(os.path.join(HERE, "loss.svg"), state, plan)
    log(f"trained {state['step']} steps x {plan.batch} x {shape.context} tokens in {state['seconds'] / 60:.1f} min;"
        f" {model.parameter_count()} parameters")

    import export
    files = export.write_all(args.out, model, shape, vocab, log)
    summary = {"steps": state["step"], "batch": plan.batch, "context": shape.context, "train_minutes": round(state["seconds"] / 60, 2),
               "parameters": model.parameter_count(), "held_out_tokens": len(held_out), "excerpt_tokens": len(excerpt),
               "prompt": PROMPT, "files": {}}
    for kind, (path, weights) in files.items():
        name = os.path.basename(path)
        ppl, err = perplexity(chunk_nll(weights, held_out, shape.context))
        excerpt_ppl, excerpt_err = perplexity(chunk_nll(weights, excerpt, shape.context))
        ids = greedy(weights, vocab.encode(PROMPT), 64)
        summary["files"][name] = {"bytes": os.path.getsize(path), "held_out_ppl": round(ppl, 4), "held_out_ppl_error": round(err, 4),
                                  "excerpt_ppl": round(excerpt_ppl, 4), "excerpt_ppl_error": round(excerpt_err, 4),
                                  "greedy_ids": ids, "greedy_text": vocab.decode(ids)}
        log(f"{name}: {os.path.getsize(path)} bytes; held-out PPL (torch, llama.cpp's method, ctx {shape.context}) = {ppl:.4f}"
            f" +/- {err:.5f}; {EXCERPT}: {excerpt_ppl:.4f} +/- {excerpt_err:.5f}")
        log(f"  greedy: {PROMPT}|{vocab.decode(ids)!r}")
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    if args.install:
        os.makedirs(RESOURCES, exist_ok=True)
        with open(os.path.join(RESOURCES, "SHA256SUMS"), "w") as sums:
            for path, _ in files.values():
                shutil.copy(path, RESOURCES)
                with open(path, "rb") as f:
                    sums.write(f"{hashlib.sha256(f.read()).hexdigest()}  {os.path.basename(path)}\n")
        os.makedirs(TEST_RESOURCES, exist_ok=True)
        shutil.copy(os.path.join(args.out, EXCERPT), RESOURCES)   # shipped: bench's perplexity row scores it
        shutil.copy(os.path.join(args.out, "summary.json"), TEST_RESOURCES)
        log(f"installed into {RESOURCES} (with SHA256SUMS, which offload checks when it extracts a file, and {EXCERPT});"
            f" summary.json (the figures offload's tests compare with) into {TEST_RESOURCES}")


def greedy(model, prompt_ids, n):
    """The `n` most likely next tokens, one at a time (no cache: the model is small)."""
    ids = list(prompt_ids)
    model.eval()
    with torch.no_grad():
        for _ in range(n):
            ids.append(int(model(torch.tensor([ids[-model.s.context:]]))[0, -1].argmax()))
    return ids[len(prompt_ids):]


def write_loss_csv(path, state):
    evals = dict(state["eval_loss"])
    with open(path, "w") as f:
        f.write("step,train_loss,held_out_loss\n")
        for i, loss in enumerate(state["train_loss"], 1):
            f.write(f"{i},{loss:.5f},{evals[i]:.5f}\n" if i in evals else f"{i},{loss:.5f},\n")


if __name__ == "__main__":
    main()
