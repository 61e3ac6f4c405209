"""PyTorch side of bench/finetune: the same training step as Graft's `Trainer.trainStep`.

One configuration per process (peak RSS is per configuration). channels_last, `threads` intra-op
threads. A step: forward in train mode, cross-entropy with label smoothing 0.1, backward,
clip_grad_norm_(5), SGD(momentum 0.9) with Graft's groups (head lr, trunk 0.1x; weight decay 1e-4
on weights of rank >= 2 only). Frozen parameters have requires_grad False, so autograd records
nothing for the frozen trunk; with K unfrozen stages every batch norm runs in eval mode (Graft's
policy), with "all" they use batch statistics.
EfficientNet-Lite0 is the reference package code; its K stages are Graft's: stem, 16 blocks, head
conv. ResNet-18 is fixtures/models/torchvision_models.py; stages are stem, layer1..layer4.
Random weights. Prints "row<TAB>torch<TAB>MODEL<TAB>UNFREEZE<TAB>median s<TAB>peak RSS MiB<TAB>params".
Usage: peer.py THREADS MODEL UNFREEZE   Env: BENCH_BATCH (32), BENCH_STEPS (5), BENCH_WARMUP (2).
"""
import os, resource, sys, time
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "models"))

threads, name, unfreeze = int(sys.argv[1]), sys.argv[2], sys.argv[3]
batch = int(os.environ.get("BENCH_BATCH", "32"))
steps = int(os.environ.get("BENCH_STEPS", "5"))
warmup = int(os.environ.get("BENCH_WARMUP", "2"))
classes = 10
torch.set_num_threads(threads)
torch.manual_seed(0)

if name == "efficientnet-lite0":
    from efficientnet_lite_pytorch import EfficientNet
    model = EfficientNet.from_name("efficientnet-lite0", drop_connect_rate=0.0)  # Graft has no drop-connect
    model._fc = nn.Linear(1280, classes)
    stages = [[model._conv_stem, model._bn0]] + [[b] for b in model._blocks] + [[model._conv_head, model._bn1]]
    head = model._fc
elif name == "resnet18":
    from torchvision_models import BasicBlock, ResNet
    model = ResNet(BasicBlock, [2, 2, 2, 2])
    model.fc = nn.Linear(512, classes)
    stages = [[model.conv1, model.bn1], [model.layer1], [model.layer2], [model.layer3], [model.layer4]]
    head = model.fc
else:
    raise SystemExit(f"unknown model {name}")

model.train()
if unfreeze != "all":
    k = int(unfreeze)
    for p in model.parameters():
        p.requires_grad = False
    for stage in (stages[-k:] if k > 0 else []):
        for m in stage:
            for p in m.parameters():
                p.requires_grad = True
    for p in head.parameters():
        p.requires_grad = True
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()

head_ids = {id(p) for p in head.parameters()}
trainable = [p for p in model.parameters() if p.requires_grad]
groups = [
    {"params": [p for p in trainable if id(p) in head_ids and p.dim() >= 2], "lr": 1e-3, "weight_decay": 1e-4},
    {"params": [p for p in trainable if id(p) in head_ids and p.dim() < 2], "lr": 1e-3, "weight_decay": 0.0},
    {"params": [p for p in trainable if id(p) not in head_ids and p.dim() >= 2], "lr": 1e-4, "weight_decay": 1e-4},
    {"params": [p for p in trainable if id(p) not in head_ids and p.dim() < 2], "lr": 1e-4, "weight_decay": 0.0},
]
optimizer = torch.optim.SGD([g for g in groups if g["params"]], lr=1e-3, momentum=0.9)
model = model.to(memory_format=torch.channels_last)
x = (torch.rand(batch, 3, 224, 224) * 2 - 1).contiguous(memory_format=torch.channels_last)
y = torch.arange(batch) % classes


def step():
    optimizer.zero_grad(set_to_none=True)
    loss = nn.functional.cross_entropy(model(x), y, label_smoothing=0.1)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(trainable, 5.0)
    optimizer.step()


for _ in range(warmup):
    step()
times = []
for _ in range(steps):
    start = time.perf_counter()
    step()
    times.append(time.perf_counter() - start)
median = sorted(times)[len(times) // 2]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"# torch {torch.__version__}, threads {threads}, batch {batch}, steps {steps} after {warmup} warm-up")
print(f"row\ttorch\t{name}\t{unfreeze}\t{median:.3f}\t{peak:.0f}\t{sum(p.numel() for p in trainable)}", flush=True)
