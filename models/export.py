#!/usr/bin/python3
"""Export the whole-model test models of evo to ONNX, with reference outputs.

Builds YOLOv5s (v6/v7 layout), YOLOv8n and ResNet18 in PyTorch with seeded
random weights, exports each at opsets 12 and 17, plus one tiny CNN at
opset 13 and YOLOv5n, MobileNetV2/V3-Large, ShuffleNetV2 and
EfficientNet-B0 at opset 17, and saves a seeded input and PyTorch's output
as float32 .npy.

Batch-norm statistics are set from the model's own activations on a
calibration image and then perturbed (mean shift, variance x U[0.5, 2],
gamma, beta), so every layer sees activations of order one: a conv or
folding bug changes the output visibly instead of being swamped.

Run with Debian's python3 (python3-torch, python3-torchvision, python3-onnx):
    /usr/bin/python3 models/export.py --out models/out [--only yolov5s,...]
Files are written to a temporary name and renamed, so concurrent runs
never leave a half-written file behind.
"""

import argparse
import math
import os
import sys
import time
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torchvision

SEED = 20240611


# ---------------------------------------------------------------------------
# building blocks shared by both YOLO generations


def autopad(k):
    return k // 2


class ConvBnSiLU(nn.Module):
    """Conv2d without bias, BatchNorm2d, SiLU: Ultralytics' Conv block."""

    def __init__(self, c_in, c_out, k=1, s=1, p=None, g=1):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, s, autopad(k) if p is None else p,
                              groups=g, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    """Two convs (k1 then k2) with an optional residual add."""

    def __init__(self, c_in, c_out, shortcut, k1=1, k2=3, e=0.5):
        super().__init__()
        c_mid = int(c_out * e)
        self.cv1 = ConvBnSiLU(c_in, c_mid, k1)
        self.cv2 = ConvBnSiLU(c_mid, c_out, k2)
        self.add = shortcut and c_in == c_out

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class SPPF(nn.Module):
    """Three chained k x k stride-1 max pools, all four tensors concatenated."""

    def __init__(self, c_in, c_out, k=5):
        super().__init__()
        c_mid = c_in // 2
        self.cv1 = ConvBnSiLU(c_in, c_mid, 1)
        self.cv2 = ConvBnSiLU(c_mid * 4, c_out, 1)
        self.pool = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x):
        x = self.cv1(x)
        p1 = self.pool(x)
        p2 = self.pool(p1)
        p3 = self.pool(p2)
        return self.cv2(torch.cat((x, p1, p2, p3), 1))


def make_divisible(x, divisor=8):
    return int(math.ceil(x / divisor) * divisor)


def scaled_depth(n, depth_multiple):
    return max(round(n * depth_multiple), 1) if n > 1 else n


# ---------------------------------------------------------------------------
# YOLOv5s (v6.0+ layout: 6x6 stem conv, C3, SPPF)


class C3(nn.Module):
    def __init__(self, c_in, c_out, n, shortcut=True):
        super().__init__()
        c_mid = c_out // 2
        self.cv1 = ConvBnSiLU(c_in, c_mid, 1)
        self.cv2 = ConvBnSiLU(c_in, c_mid, 1)
        self.cv3 = ConvBnSiLU(2 * c_mid, c_out, 1)
        self.m = nn.Sequential(*(Bottleneck(c_mid, c_mid, shortcut, 1, 3, e=1.0)
                                 for _ in range(n)))

    def forward(self, x):
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class DetectV5(nn.Module):
    """Anchor-based head that decodes boxes inside the graph (export mode)."""

    ANCHORS = ((10, 13, 16, 30, 33, 23),
               (30, 61, 62, 45, 59, 119),
               (116, 90, 156, 198, 373, 326))

    def __init__(self, nc, ch, strides):
        super().__init__()
        self.nc = nc
        self.no = nc + 5
        self.na = 3
        self.strides = strides
        # anchors in pixels, shape (levels, na, 2)
        self.register_buffer("anchors", torch.tensor(self.ANCHORS, dtype=torch.float32)
                             .view(len(ch), self.na, 2))
        self.m = nn.ModuleList(nn.Conv2d(c, self.no * self.na, 1) for c in ch)

    def grid_for(self, level, nx, ny):
        shape = (1, self.na, ny, nx, 2)
        ys = torch.arange(ny, dtype=torch.float32)
        xs = torch.arange(nx, dtype=torch.float32)
        yv, xv = torch.meshgrid(ys, xs, indexing="ij")
        grid = torch.stack((xv, yv), 2).expand(shape) - 0.5
        anchor_grid = self.anchors[level].view(1, self.na, 1, 1, 2).expand(shape)
        return grid, anchor_grid

    def forward(self, feats):
        out = []
        for i, f in enumerate(feats):
            x = self.m[i](f)
            bs, _, ny, nx = x.shape
            x = x.view(bs, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous()
            grid, anchor_grid = self.grid_for(i, nx, ny)
            xy, wh, conf = x.sigmoid().split((2, 2, self.nc + 1), 4)
            xy = (xy * 2 + grid) * self.strides[i]
            wh = (wh * 2) ** 2 * anchor_grid
            y = torch.cat((xy, wh, conf), 4)
            out.append(y.view(bs, self.na * nx * ny, self.no))
        return torch.cat(out, 1)


class YoloV5(nn.Module):
    def __init__(self, depth_multiple=0.33, width_multiple=0.50, nc=80):
        super().__init__()

        def w(c):
            return make_divisible(c * width_multiple, 8)

        def d(n):
            return scaled_depth(n, depth_multiple)

        self.b0 = ConvBnSiLU(3, w(64), 6, 2, 2)
        self.b1 = ConvBnSiLU(w(64), w(128), 3, 2)
        self.b2 = C3(w(128), w(128), d(3))
        self.b3 = ConvBnSiLU(w(128), w(256), 3, 2)
        self.b4 = C3(w(256), w(256), d(6))
        self.b5 = ConvBnSiLU(w(256), w(512), 3, 2)
        self.b6 = C3(w(512), w(512), d(9))
        self.b7 = ConvBnSiLU(w(512), w(1024), 3, 2)
        self.b8 = C3(w(1024), w(1024), d(3))
        self.b9 = SPPF(w(1024), w(1024), 5)
        self.h10 = ConvBnSiLU(w(1024), w(512), 1, 1)
        self.up = nn.Upsample(None, 2, "nearest")
        self.h13 = C3(w(512) * 2, w(512), d(3), False)
        self.h14 = ConvBnSiLU(w(512), w(256), 1, 1)
        self.h17 = C3(w(256) * 2, w(256), d(3), False)
        self.h18 = ConvBnSiLU(w(256), w(256), 3, 2)
        self.h20 = C3(w(256) * 2, w(512), d(3), False)
        self.h21 = ConvBnSiLU(w(512), w(512), 3, 2)
        self.h23 = C3(w(512) * 2, w(1024), d(3), False)
        self.detect = DetectV5(nc, (w(256), w(512), w(1024)), (8, 16, 32))

    def forward(self, x):
        x = self.b2(self.b1(self.b0(x)))
        p3 = self.b4(self.b3(x))
        p4 = self.b6(self.b5(p3))
        x = self.b9(self.b8(self.b7(p4)))
        h10 = self.h10(x)
        x = self.h13(torch.cat((self.up(h10), p4), 1))
        h14 = self.h14(x)
        out_s = self.h17(torch.cat((self.up(h14), p3), 1))
        out_m = self.h20(torch.cat((self.h18(out_s), h14), 1))
        out_l = self.h23(torch.cat((self.h21(out_m), h10), 1))
        return self.detect([out_s, out_m, out_l])


# ---------------------------------------------------------------------------
# YOLOv8n (C2f, anchor-free decoupled head with DFL)


class C2f(nn.Module):
    def __init__(self, c_in, c_out, n, shortcut=False):
        super().__init__()
        self.c = c_out // 2
        self.cv1 = ConvBnSiLU(c_in, 2 * self.c, 1)
        self.cv2 = ConvBnSiLU((2 + n) * self.c, c_out, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, self.c, shortcut, 3, 3, e=1.0)
                               for _ in range(n))

    def forward(self, x):
        ys = list(self.cv1(x).chunk(2, 1))
        for m in self.m:
            ys.append(m(ys[-1]))
        return self.cv2(torch.cat(ys, 1))


class DFL(nn.Module):
    """Expected value of a softmax over reg_max bins, as a fixed 1x1 conv."""

    def __init__(self, reg_max=16):
        super().__init__()
        self.reg_max = reg_max
        self.conv = nn.Conv2d(reg_max, 1, 1, bias=False).requires_grad_(False)
        self.conv.weight.data[:] = torch.arange(reg_max, dtype=torch.float32).view(1, reg_max, 1, 1)

    def forward(self, x):
        b, _, a = x.shape
        x = x.view(b, 4, self.reg_max, a).transpose(2, 1).softmax(1)
        return self.conv(x).view(b, 4, a)


class DetectV8(nn.Module):
    def __init__(self, nc, ch, strides, reg_max=16):
        super().__init__()
        self.nc = nc
        self.reg_max = reg_max
        self.no = nc + 4 * reg_max
        self.strides = strides
        c2 = max(16, ch[0] // 4, 4 * reg_max)
        c3 = max(ch[0], min(nc, 100))
        self.cv2 = nn.ModuleList(nn.Sequential(ConvBnSiLU(c, c2, 3), ConvBnSiLU(c2, c2, 3),
                                               nn.Conv2d(c2, 4 * reg_max, 1)) for c in ch)
        self.cv3 = nn.ModuleList(nn.Sequential(ConvBnSiLU(c, c3, 3), ConvBnSiLU(c3, c3, 3),
                                               nn.Conv2d(c3, nc, 1)) for c in ch)
        self.dfl = DFL(reg_max)

    def anchors_for(self, feats):
        points, strides = [], []
        for f, s in zip(feats, self.strides):
            _, _, h, w = f.shape
            sx = torch.arange(w, dtype=torch.float32) + 0.5
            sy = torch.arange(h, dtype=torch.float32) + 0.5
            sy, sx = torch.meshgrid(sy, sx, indexing="ij")
            points.append(torch.stack((sx, sy), -1).view(-1, 2))
            strides.append(torch.full((h * w, 1), float(s)))
        return torch.cat(points).transpose(0, 1), torch.cat(strides).transpose(0, 1)

    def forward(self, feats):
        outs = [torch.cat((self.cv2[i](f), self.cv3[i](f)), 1) for i, f in enumerate(feats)]
        b = outs[0].shape[0]
        x = torch.cat([o.view(b, self.no, -1) for o in outs], 2)
        anchors, strides = self.anchors_for(outs)
        box, cls = x.split((4 * self.reg_max, self.nc), 1)
        lt, rb = self.dfl(box).chunk(2, 1)
        anchors = anchors.unsqueeze(0)
        x1y1 = anchors - lt
        x2y2 = anchors + rb
        dbox = torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), 1) * strides
        return torch.cat((dbox, cls.sigmoid()), 1)


class YoloV8(nn.Module):
    def __init__(self, depth_multiple=0.33, width_multiple=0.25, max_channels=1024, nc=80):
        super().__init__()

        def w(c):
            return make_divisible(min(c, max_channels) * width_multiple, 8)

        def d(n):
            return scaled_depth(n, depth_multiple)

        self.b0 = ConvBnSiLU(3, w(64), 3, 2)
        self.b1 = ConvBnSiLU(w(64), w(128), 3, 2)
        self.b2 = C2f(w(128), w(128), d(3), True)
        self.b3 = ConvBnSiLU(w(128), w(256), 3, 2)
        self.b4 = C2f(w(256), w(256), d(6), True)
        self.b5 = ConvBnSiLU(w(256), w(512), 3, 2)
        self.b6 = C2f(w(512), w(512), d(6), True)
        self.b7 = ConvBnSiLU(w(512), w(1024), 3, 2)
        self.b8 = C2f(w(1024), w(1024), d(3), True)
        self.b9 = SPPF(w(1024), w(1024), 5)
        self.up = nn.Upsample(None, 2, "nearest")
        self.h12 = C2f(w(1024) + w(512), w(512), d(3))
        self.h15 = C2f(w(512) + w(256), w(256), d(3))
        self.h16 = ConvBnSiLU(w(256), w(256), 3, 2)
        self.h18 = C2f(w(256) + w(512), w(512), d(3))
        self.h19 = ConvBnSiLU(w(512), w(512), 3, 2)
        self.h21 = C2f(w(512) + w(1024), w(1024), d(3))
        self.detect = DetectV8(nc, (w(256), w(512), w(1024)), (8, 16, 32))

    def forward(self, x):
        x = self.b2(self.b1(self.b0(x)))
        p3 = self.b4(self.b3(x))
        p4 = self.b6(self.b5(p3))
        p5 = self.b9(self.b8(self.b7(p4)))
        h12 = self.h12(torch.cat((self.up(p5), p4), 1))
        out_s = self.h15(torch.cat((self.up(h12), p3), 1))
        out_m = self.h18(torch.cat((self.h16(out_s), h12), 1))
        out_l = self.h21(torch.cat((self.h19(out_m), p5), 1))
        return self.detect([out_s, out_m, out_l])


# ---------------------------------------------------------------------------
# tiny CNN: a few of every op kind the importer must handle, small enough
# for a quick test


class TinyCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = ConvBnSiLU(3, 8, 3, 2)
        self.c2 = ConvBnSiLU(8, 16, 3, 1)
        self.pool = nn.MaxPool2d(2, 2)
        self.up = nn.Upsample(None, 2, "nearest")
        # after a concat, so the exporter cannot fold it into a conv
        self.bn = nn.BatchNorm2d(24)
        self.c3 = nn.Conv2d(24, 16, 1)

    def forward(self, x):
        a = self.c1(x)
        b = self.c2(a)
        y = torch.cat((a, self.up(self.pool(b))), 1)
        y = self.c3(torch.sigmoid(self.bn(y)) * y)
        p, q = y.split((6, 10), 1)
        r = q[:, 2:9, 1:-1, ::2]
        # the batch size flows through Shape -> Gather -> Unsqueeze -> Concat -> Reshape
        n = x.shape[0]
        return torch.cat((p.reshape(n, -1), r.reshape(n, -1) * 0.5), 1)


# ---------------------------------------------------------------------------


def calibrate_bn(model, x, gen):
    """Sets every BN's statistics from its own input on x, then perturbs them.

    BNs are calibrated in forward order within one eval-mode pass (a pre-hook
    runs before each BN uses its statistics), so each one sees the already
    perturbed output of the layers before it and scale errors do not compound.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]

    def pre_hook(bn, inputs):
        t = inputs[0]
        c = bn.num_features
        mean = t.mean(dim=(0, 2, 3))
        var = t.var(dim=(0, 2, 3), unbiased=False)
        bn.running_mean.copy_(mean + 0.2 * var.sqrt() * torch.randn(c, generator=gen))
        bn.running_var.copy_(var.clamp_min(1e-4) * (0.5 + 1.5 * torch.rand(c, generator=gen)))

    model.eval()
    with torch.no_grad():
        for bn in bns:
            c = bn.num_features
            bn.weight.copy_(0.5 + torch.rand(c, generator=gen))
            bn.bias.copy_(0.2 * torch.randn(c, generator=gen))
        handles = [bn.register_forward_pre_hook(pre_hook) for bn in bns]
        model(x)
        for h in handles:
            h.remove()


def atomic_save_npy(path, array):
    tmp = "%s.tmp%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        np.save(f, np.ascontiguousarray(array, dtype="<f4"))
    os.replace(tmp, path)


def check_onnx(path, m, x_shape, out_shape, dynamic_batch):
    """onnx.checker plus: input and output are float32 with the expected shapes."""
    onnx.checker.check_model(m)
    for vi, want in ((m.graph.input[0], tuple(x_shape)), (m.graph.output[0], tuple(out_shape))):
        dims = tuple(d.dim_value if d.HasField("dim_value") else None
                     for d in vi.type.tensor_type.shape.dim)
        # with a symbolic batch the exporter may leave other output dims symbolic too
        ok = len(dims) == len(want) and all(
            d == w or (dynamic_batch and d is None) for d, w in zip(dims, want))
        if vi.type.tensor_type.elem_type != onnx.TensorProto.FLOAT or not ok:
            raise ValueError("%s: %s has shape %s, expected %s" % (path, vi.name, dims, want))


def export_onnx(model, x, out_shape, path, opset, input_name, output_name, dynamic_batch):
    tmp = "%s.tmp%d" % (path, os.getpid())
    # A symbolic batch keeps the Shape -> ... -> Reshape subgraph in the file;
    # with fixed shapes the exporter folds it to a constant.
    dyn = {input_name: {0: "batch"}, output_name: {0: "batch"}} if dynamic_batch else None
    try:
        with torch.no_grad():
            torch.onnx.export(model, x, tmp, opset_version=opset, input_names=[input_name],
                              output_names=[output_name], dynamic_axes=dyn)
        m = onnx.load(tmp)
        check_onnx(path, m, x.shape, out_shape, dynamic_batch)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return sorted({n.op_type for n in m.graph.node})


def check_output(name, y):
    """The reference output must be finite and must not be (nearly) constant."""
    if not np.all(np.isfinite(y)):
        raise SystemExit("%s: PyTorch output is not finite" % name)
    if float(y.std()) < 1e-3 * max(float(np.abs(y).max()), 1e-30):
        raise SystemExit("%s: PyTorch output is nearly constant" % name)


def yolo_box_spread(y, boxes_last):
    """Std of each box coordinate over anchors: decoded boxes must vary."""
    boxes = y[0, :, :4] if boxes_last else y[0, :4, :].T
    return boxes.std(axis=0)


MODELS = {
    # name: (constructor, input shape, input name, output name, opsets, dynamic batch)
    "yolov5s": (YoloV5, (1, 3, 640, 640), "images", "output0", (12, 17), False),
    "yolov8n": (YoloV8, (1, 3, 640, 640), "images", "output0", (12, 17), False),
    "resnet18": (lambda: torchvision.models.resnet18(weights=None),
                 (1, 3, 224, 224), "input", "output", (12, 17), False),
    "tiny_cnn": (TinyCnn, (1, 3, 64, 64), "input", "output", (13,), True),
    # lightweight models edge users deploy (depthwise, shuffles, squeeze-excite, hard-swish)
    "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(weights=None),
                     (1, 3, 224, 224), "input", "output", (17,), False),
    "mobilenet_v3_large": (lambda: torchvision.models.mobilenet_v3_large(weights=None),
                           (1, 3, 224, 224), "input", "output", (17,), False),
    "shufflenet_v2_x1_0": (lambda: torchvision.models.shufflenet_v2_x1_0(weights=None),
                           (1, 3, 224, 224), "input", "output", (17,), False),
    "efficientnet_b0": (lambda: torchvision.models.efficientnet_b0(weights=None),
                        (1, 3, 224, 224), "input", "output", (17,), False),
    "yolov5n": (lambda: YoloV5(depth_multiple=0.33, width_multiple=0.25),
                (1, 3, 640, 640), "images", "output0", (17,), False),
}


def export_model(name, out_dir):
    ctor, shape, in_name, out_name, opsets, dynamic_batch = MODELS[name]
    t0 = time.time()
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED + 1)
    model = ctor()
    calib = torch.rand(shape, generator=gen)
    calibrate_bn(model, calib, gen)
    x = torch.rand(shape, generator=gen)
    with torch.no_grad():
        y = model(x).numpy()
    check_output(name, y)
    n_params = sum(p.numel() for p in model.parameters())
    print("%-9s params %10d  input %s  output %s  max|out| %.4g  std %.4g"
          % (name, n_params, list(shape), list(y.shape), float(np.abs(y).max()), float(y.std())))
    if name.startswith("yolo"):
        spread = yolo_box_spread(y, name.startswith("yolov5"))
        print("%-9s box coordinate std over anchors: %s" % (name, np.array2string(spread, precision=2)))
        if not np.all(spread > 1.0):
            raise SystemExit("%s: decoded boxes do not vary" % name)
    for opset in opsets:
        path = os.path.join(out_dir, "%s_op%d.onnx" % (name, opset))
        ops = export_onnx(model, x, y.shape, path, opset, in_name, out_name, dynamic_batch)
        print("%-9s opset %d -> %s (%d bytes), ops: %s"
              % (name, opset, path, os.path.getsize(path), " ".join(ops)))
    atomic_save_npy(os.path.join(out_dir, name + ".input.npy"), x.numpy())
    atomic_save_npy(os.path.join(out_dir, name + ".output.npy"), y)
    print("%-9s done in %.1f s" % (name, time.time() - t0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"),
                    help="output directory (default: models/out next to this script)")
    ap.add_argument("--only", default="", help="comma-separated subset of: " + ",".join(MODELS))
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n] or list(MODELS)
    for n in names:
        if n not in MODELS:
            ap.error("unknown model %r" % n)
    os.makedirs(args.out, exist_ok=True)
    # torch 1.13 warns about every traced constant; it is noise here
    warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    for n in names:
        export_model(n, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
