"""The trained model as GGUF files: F32, Q8_0 and Q4_0, with the tokenizer and the provenance in the metadata.

Tensor names and layouts are llama.cpp's for `llama`: token_embd, blk.N.{attn_norm, attn_q, attn_k, attn_v,
attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down}, output_norm; no output.weight (the output is tied to the
embedding). A torch weight [out, in] is a ggml tensor ne = [in, out] with the same bytes. Q and K are written as
trained: the model rotates adjacent pairs, which is what ggml's llama RoPE does, so no row permutation is needed.
Norm weights stay F32 in every file (as llama.cpp's quantizer leaves 1-D tensors); the quantized files quantize every
matrix, the embedding included.
"""
import copy
import os

import numpy as np
import torch

import ggml_quant
from gguf_writer import GgufWriter
from llama_model import LlamaModel
from spm_tokenizer import BOS, EOS, UNKNOWN

NAME = "offload-demo-kjv"
# general.file_type: llama.cpp's llama_ftype numbers
FILE_TYPES = {"f32": (ggml_quant.F32, 0), "q8_0": (ggml_quant.Q8_0, 7), "q4_0": (ggml_quant.Q4_0, 2)}
LICENSE = "public-domain"
LICENSE_NAME = ("Public domain. The text is the King James Version of the Bible (1611); its copyright has expired"
                " (Debian's bible-kjv-text: 'The copyright for the King James Version text of the Bible is expired')."
                " In the United Kingdom the Crown's letters patent still govern printing of the KJV.")
SOURCE = ("Trained by offload's recipe (docs/demo-model/recipe.py) on the King James Bible as shipped by Debian's"
          " bible-kjv-text package (Chip Chapin's Bible Retrieval System data, read with bible-kjv's `bible`),"
          " Genesis to Philemon; Colossians to Revelation are held out")


def tensors(model: LlamaModel):
    """(gguf name, torch tensor) in llama.cpp's order."""
    yield "token_embd.weight", model.token_embd.weight
    for i, blk in enumerate(model.blocks):
        for part in ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"):
            yield f"blk.{i}.{part}.weight", getattr(blk, part).weight
    yield "output_norm.weight", model.output_norm.weight


def metadata(w: GgufWriter, shape, vocab, file_type):
    w.string("general.architecture", "llama")
    w.string("general.type", "model")
    w.string("general.name", NAME)
    w.string("general.description", "offload's demo model: a 4-layer Llama-architecture decoder trained on the King"
             " James Bible, for trying offload without downloading a model. Bring a GGUF for real work.")
    w.string("general.license", LICENSE)
    w.string("general.license.name", LICENSE_NAME)
    w.string("general.source.url", "https://packages.debian.org/bookworm/bible-kjv-text")
    w.string("general.source.description", SOURCE)   # free text: how and from what the model was made
    w.u32("general.dataset.count", 1)
    w.string("general.dataset.0.name", "King James Bible (bible-kjv-text)")
    w.u32("general.file_type", file_type)
    w.u32("general.quantization_version", 2)
    w.u32("general.alignment", 32)
    w.u32("llama.vocab_size", shape.vocab)
    w.u32("llama.context_length", shape.context)
    w.u32("llama.embedding_length", shape.hidden)
    w.u32("llama.block_count", shape.layers)
    w.u32("llama.feed_forward_length", shape.ffn)
    w.u32("llama.attention.head_count", shape.heads)
    w.u32("llama.attention.head_count_kv", shape.kv_heads)
    w.u32("llama.rope.dimension_count", shape.head_dim)
    w.f32("llama.rope.freq_base", shape.rope_base)
    w.f32("llama.attention.layer_norm_rms_epsilon", shape.rms_eps)
    w.string("tokenizer.ggml.model", "llama")
    w.strings("tokenizer.ggml.tokens", vocab.tokens)
    w.f32s("tokenizer.ggml.scores", vocab.scores)
    w.i32s("tokenizer.ggml.token_type", vocab.types)
    w.u32("tokenizer.ggml.bos_token_id", BOS)
    w.u32("tokenizer.ggml.eos_token_id", EOS)
    w.u32("tokenizer.ggml.unknown_token_id", UNKNOWN)
    w.boolean("tokenizer.ggml.add_bos_token", True)
    w.boolean("tokenizer.ggml.add_eos_token", False)
    w.boolean("tokenizer.ggml.add_space_prefix", True)


def write(path, model, shape, vocab, kind):
    """Writes one file; returns a copy of the model holding the weights exactly as the file decodes them."""
    ggml_type, file_type = FILE_TYPES[kind]
    w = GgufWriter()
    metadata(w, shape, vocab, file_type)
    decoded = copy.deepcopy(model)
    for (name, t), (_, dt) in zip(tensors(model), tensors(decoded)):
        x = t.detach().numpy().astype(np.float32)
        kind_here = ggml_type if x.ndim == 2 else ggml_quant.F32
        data = ggml_quant.encode(x, kind_here)
        w.tensor(name, list(reversed(x.shape)), kind_here, data)
        with torch.no_grad():
            dt.copy_(torch.from_numpy(ggml_quant.decode(data, kind_here, x.size).reshape(x.shape)))
    w.write(path)
    return decoded


def write_all(out_dir, model, shape, vocab, log=print):
    """{kind: (path, decoded model)} for F32, Q8_0 and Q4_0."""
    files = {}
    for kind in FILE_TYPES:
        path = os.path.join(out_dir, f"{NAME}-{kind}.gguf")
        files[kind] = (path, write(path, model, shape, vocab, kind))
        log(f"wrote {path} ({os.path.getsize(path)} bytes)")
    return files
