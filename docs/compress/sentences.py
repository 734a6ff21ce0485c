"""Writes host/src/main/resources/dev/offload/compress/sentences.txt, the sentence set `offload compress` measures
accuracy on: 400 verses of the King James Bible (1611, public domain; Debian's bible-kjv-text read through the
`bible` program, as docs/demo-model/kjv_corpus.py reads it), every 77th verse from Genesis 1:1, and 200 modern
sentences made here from fixed lists (offload's own, under the project's licence), so that the set is not all
archaic English. Deterministic: running it again gives the same file.
"""
import itertools
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "demo-model"))
from kjv_corpus import read_books  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "host", "src", "main", "resources", "dev", "offload",
                   "compress", "sentences.txt")

SUBJECTS = ["The new phone", "My neighbour", "A small team of engineers", "The city council", "Our cat",
            "The train to Berlin", "This recipe", "The quarterly report", "A young violinist", "The weather service"]
VERBS = ["was delayed by", "was praised for", "is known for", "struggled with", "was surprised by",
         "quickly recovered from", "keeps talking about", "was criticised for", "finally explained", "made headlines with"]
OBJECTS = ["a sudden storm", "its battery life", "the rising cost of rent", "an unexpected software bug",
           "a long queue at the station", "a surprisingly good dinner", "the results of the election",
           "a broken heating system", "the first snow of the winter", "a new open-source library"]


def modern(n):
    """n sentences, walking the three lists with different strides so that neighbours share little."""
    out = []
    for i in itertools.count():
        if len(out) == n:
            return out
        s = f"{SUBJECTS[i % 10]} {VERBS[(i * 3 + i // 10) % 10]} {OBJECTS[(i * 7 + i // 100) % 10]}."
        if s not in out:
            out.append(s)


def main():
    verses = [v for _, vs in read_books() for v in vs]
    kjv = verses[::77][:400]
    with open(OUT, "w", encoding="utf-8") as f:
        for s in kjv + modern(200):
            f.write(s + "\n")


if __name__ == "__main__":
    main()
