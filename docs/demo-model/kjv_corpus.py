"""The corpus: the King James Bible (1611, public domain) as Debian's bible-kjv-text ships it, read through the
`bible` program of bible-kjv, one verse a line, without book, chapter or verse numbers.

The held-out part is fixed: the last books, Colossians through Revelation (about 5% of the text). Neither the
tokenizer nor the model sees them in training.
"""
import re
import subprocess

HELD_OUT_FROM = "Colossians"


def read_books():
    """[(book, [verse text, ...]), ...] in canon order, Genesis to Revelation."""
    raw = subprocess.run(["bible", "-l100000", "gen1:1-rev22:21"], check=True, capture_output=True).stdout.decode("ascii")
    books, current = [], None
    for line in raw.splitlines():
        verse = re.match(r"^  \d+ (.*)$", line)
        if verse:
            current[1].append(verse.group(1).strip())
        elif line.strip():
            name = line.rsplit(" ", 1)[0]          # "1 Samuel 3" -> "1 Samuel"
            if current is None or current[0] != name:
                current = (name, [])
                books.append(current)
    if len(books) != 66 or sum(len(v) for _, v in books) != 31102:
        raise SystemExit(f"bible gave {len(books)} books, {sum(len(v) for _, v in books)} verses; want 66 and 31102")
    return books


def split_text():
    """(training text, held-out text, held-out excerpt): verses joined by newlines; the excerpt is the first held-out
    book alone (Colossians), small enough for offload's tests to score."""
    books = read_books()
    cut = [name for name, _ in books].index(HELD_OUT_FROM)

    def text(part):
        return "\n".join(v for _, verses in part for v in verses) + "\n"
    return text(books[:cut]), text(books[cut:]), text(books[cut:cut + 1])
