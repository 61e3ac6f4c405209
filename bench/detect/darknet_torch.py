"""YOLOv3-tiny-family cfg as a PyTorch module with Darknet weights (for the ONNX Runtime peer).

Conv + BN (eps as Graft: sqrt(var + 1e-6)) + leaky 0.1, Darknet's maxpool padding (F.pad after the
map, then max_pool2d; replicating the edge gives the max -inf padding gives, since every window holding a
padded cell holds the edge cell it copies, and keeps ONNX Runtime's int8 calibration finite), route, nearest upsample, shortcut. forward returns the raw input of
every [yolo] layer, NCHW.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def parse_cfg(path):
    sections = []
    for line in open(path):
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[":
            sections.append({"type": line[1:-1].strip()})
        else:
            k, v = line.split("=", 1)
            sections[-1][k.strip()] = v.strip()
    return sections


class DarknetTorch(nn.Module):
    def __init__(self, cfg, weights):
        super().__init__()
        self.sections = parse_cfg(cfg)
        data = open(weights, "rb").read()
        major, minor, _ = np.frombuffer(data[:12], np.int32)
        floats = np.frombuffer(data[20 if major * 10 + minor >= 2 else 16:], np.float32)
        pos, channels = 0, [int(self.sections[0].get("channels", 3))]
        self.layers = nn.ModuleList()
        for i, s in enumerate(self.sections[1:]):
            prev, t = channels[-1], s["type"]
            if t == "convolutional":
                f, k = int(s["filters"]), int(s["size"])
                pad = k // 2 if int(s.get("pad", 0)) else 0
                bn = int(s.get("batch_normalize", 0))
                conv = nn.Conv2d(prev, f, k, int(s.get("stride", 1)), pad, bias=not bn)
                seq = [conv]
                def take(n):
                    nonlocal pos
                    out = torch.from_numpy(floats[pos:pos + n].copy()); pos += n
                    return out
                if bn:
                    norm = nn.BatchNorm2d(f, eps=1e-6)
                    norm.bias.data, norm.weight.data = take(f), take(f)
                    norm.running_mean.data, norm.running_var.data = take(f), take(f)
                    seq.append(norm)
                else:
                    conv.bias.data = take(f)
                conv.weight.data = take(f * prev * k * k).reshape(f, prev, k, k)
                if s.get("activation") == "leaky":
                    seq.append(nn.LeakyReLU(0.1))
                self.layers.append(nn.Sequential(*seq))
                channels.append(f)
            else:
                self.layers.append(nn.Identity())
                if t == "route":
                    idx = [int(v) for v in s["layers"].split(",")]
                    channels.append(sum(channels[1 + (v if v >= 0 else i + v)] for v in idx))
                else:
                    channels.append(prev)
        assert pos == len(floats)

    def forward(self, x):
        outs, heads = [], []
        for i, (s, layer) in enumerate(zip(self.sections[1:], self.layers)):
            t = s["type"]
            if t == "convolutional":
                x = layer(x)
            elif t == "maxpool":
                stride = int(s.get("stride", 1)); size = int(s.get("size", stride))
                padding = int(s.get("padding", size - 1))
                if padding:
                    x = F.pad(x, (padding // 2, padding - padding // 2, padding // 2, padding - padding // 2), mode="replicate")
                x = F.max_pool2d(x, size, stride)
            elif t == "route":
                idx = [int(v) for v in s["layers"].split(",")]
                x = torch.cat([outs[v if v >= 0 else i + v] for v in idx], 1)
            elif t == "upsample":
                x = F.interpolate(x, scale_factor=int(s.get("stride", 2)), mode="nearest")
            elif t == "shortcut":
                v = int(s["from"]); x = x + outs[v if v >= 0 else i + v]
            elif t == "yolo":
                heads.append(x)
            outs.append(x)
        return heads
