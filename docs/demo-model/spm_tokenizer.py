"""A SentencePiece-style vocabulary (GGUF `tokenizer.ggml.model = llama`) trained by byte-pair counting, and the
encoder that llama.cpp and offload run on such a vocabulary, so the model trains on the tokens they will give it.

How the encoders work (llama.cpp's llm_tokenizer_spm, offload's SentencePieceTokenizer): the text gets one leading
space, spaces become U+2581 ("▁"), the text is split into characters, and again and again the adjacent pair whose
joined string is a token with the highest score is merged (the leftmost on a tie); what no token covers is written
as byte tokens <0xNN>. So a trained merge must be a token whose score is higher than every later merge: merge n gets
score -n. Tokens are a letter run with an optional leading ▁ (or a single character): no token spans a word
boundary or mixes letters with punctuation, so the encoding of a text is the encoding of each of its segments.

Vocabulary layout, as Llama's: <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF>, the merged pieces in the order
they were learned, then the single characters, most frequent first. Token types: 2 unknown, 3 control, 6 byte, 1
normal (llama.cpp's numbering).
"""
import heapq
import re
from collections import Counter

SPACE = "\u2581"
UNKNOWN, BOS, EOS = 0, 1, 2
FIRST_BYTE = 3
TYPE_NORMAL, TYPE_UNKNOWN, TYPE_CONTROL, TYPE_BYTE = 1, 2, 3, 6
# A segment: a letter run with an optional leading ▁, or any one character.
SEGMENT = re.compile(SPACE + r"?[^\W\d_]+|.", re.DOTALL)


def spm_text(text):
    """The text as the encoders see it: one leading space, every space as ▁."""
    return (" " + text).replace(" ", SPACE)


class Vocabulary:
    def __init__(self, tokens, scores, types):
        self.tokens, self.scores, self.types = tokens, scores, types
        self.ids = {t: i for i, t in enumerate(tokens)}
        self.cache = {}

    @staticmethod
    def train(text, size):
        """Learns merges on `text` until the vocabulary has `size` tokens."""
        segments = Counter(SEGMENT.findall(spm_text(text)))
        chars = Counter()
        for seg, n in segments.items():
            for c in seg:
                chars[c] += n
        chars.pop("\n", None)   # a newline is written as its byte token, as in Llama's vocabulary
        base = 3 + 256 + len(chars)
        if size <= base:
            raise ValueError(f"a vocabulary of {size} has no room for merges ({base} fixed tokens)")
        words = [list(seg) for seg in segments if len(seg) > 1 and seg[-1].isalpha()]
        counts = [segments["".join(w)] for w in words]
        pairs, where = Counter(), {}
        for wi, w in enumerate(words):
            for a, b in zip(w, w[1:]):
                pairs[a, b] += counts[wi]
                where.setdefault((a, b), set()).add(wi)
        merges = []
        learned = set()
        # Max-heap of (-count, pair) with lazy deletion: an entry is live when its count is still the pair's count.
        heap = [(-n, p) for p, n in pairs.items()]
        heapq.heapify(heap)
        while len(merges) < size - base and heap:
            neg, pair = heapq.heappop(heap)
            if pairs.get(pair, 0) != -neg or -neg <= 0:
                continue
            joined = pair[0] + pair[1]
            if joined not in learned:
                learned.add(joined)
                merges.append(joined)
            touched = Counter()
            for wi in list(where.pop(pair, ())):
                w, n = words[wi], counts[wi]
                for a, b in zip(w, w[1:]):
                    pairs[a, b] -= n
                    touched[a, b] += 0
                merged, i = [], 0
                while i < len(w):
                    if i + 1 < len(w) and w[i] == pair[0] and w[i + 1] == pair[1]:
                        merged.append(joined)
                        i += 2
                    else:
                        merged.append(w[i])
                        i += 1
                words[wi] = merged
                for a, b in zip(merged, merged[1:]):
                    pairs[a, b] += n
                    where.setdefault((a, b), set()).add(wi)
                    touched[a, b] += 0
            for p in touched:
                if pairs[p] > 0:
                    heapq.heappush(heap, (-pairs[p], p))
                else:
                    pairs.pop(p, None)
        tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
        types = [TYPE_UNKNOWN, TYPE_CONTROL, TYPE_CONTROL] + [TYPE_BYTE] * 256
        scores = [0.0] * len(tokens)
        for n, piece in enumerate(merges):
            tokens.append(piece)
            types.append(TYPE_NORMAL)
            scores.append(-float(n))
        for n, (c, _) in enumerate(sorted(chars.items(), key=lambda kv: (-kv[1], kv[0]))):
            tokens.append(c)
            types.append(TYPE_NORMAL)
            scores.append(-float(len(merges) + n))
        return Vocabulary(tokens, scores, types)

    def encode(self, text, bos=True):
        """Token ids as llama.cpp gives them for `text` (BOS first when asked)."""
        out = [BOS] if bos else []
        for seg in SEGMENT.findall(spm_text(text)):
            ids = self.cache.get(seg)
            if ids is None:
                ids = self.cache[seg] = self._merge(seg)
            out.extend(ids)
        return out

    def _merge(self, seg):
        """Score-driven merging of one segment's characters, highest score first, leftmost on a tie."""
        sym = list(seg)
        while len(sym) > 1:
            best, at = None, -1
            for i in range(len(sym) - 1):
                t = self.ids.get(sym[i] + sym[i + 1])
                if t is not None and (best is None or self.scores[t] > best):
                    best, at = self.scores[t], i
            if at < 0:
                break
            sym[at:at + 2] = [sym[at] + sym[at + 1]]
        out = []
        for s in sym:
            if s in self.ids:
                out.append(self.ids[s])
            else:
                out.extend(FIRST_BYTE + b for b in s.encode("utf-8"))
        return out

    def decode(self, ids):
        data = bytearray()
        for i in ids:
            t = self.types[i]
            if t == TYPE_BYTE:
                data.append(i - FIRST_BYTE)
            elif t == TYPE_NORMAL:
                data += self.tokens[i].replace(SPACE, " ").encode("utf-8")
        s = data.decode("utf-8", errors="replace")
        return s[1:] if s.startswith(" ") else s
