"""ctxenc_torch — ctxenc's generators as PyTorch nn.Modules.

Every architecture ctxenc builds (center or full output, dense or channel-wise
bottleneck, transposed or bilinear up-convolutions, an optional mask channel,
residual output), with ctxenc's parameter names, so the state_dict that
`ctxenc export --format torch model.ctxm -o model.pt` writes loads as is:

    import torch, ctxenc, ctxenc_torch
    config = ctxenc.load("model.ctxm").info()["model"]     # or: ctxenc info --json model.ctxm
    g = ctxenc_torch.Generator(config)
    g.load_state_dict(torch.load("model.pt"))
    g.eval()
    y = g(x)   # x: [B, C(+1), S, S] in [-1, 1], the hole filled -> [B, C, out, out]

After training or fine-tuning in PyTorch, `torch.save(g.state_dict(), "t.pt")`
and `ctxenc import t.pt --layout ctxenc --config-from model.ctxm -o t.ctxm`
bring the weights back. Shapes follow src/model/networks.cpp exactly.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

LEAKY_SLOPE = 0.2  # every LeakyReLU of the encoder and the dense bottleneck


def _log2(n):
    k = n.bit_length() - 1
    if n < 32 or (1 << k) != n:
        raise ValueError("image_size must be a power of two >= 32, got %d" % n)
    return k


def encoder_channels(cfg):
    """Widths of the stride-2 encoder convs: 128 -> [64, 64, 128, 256, 512]."""
    n = _log2(cfg["image_size"]) - 2
    return [cfg["nef"] << max(0, i - (n - 4)) for i in range(n)]


def output_size(cfg):
    return cfg["image_size"] // 2 if cfg["output"] == "center" else cfg["image_size"]


def output_offset(cfg):
    return cfg["image_size"] // 4 if cfg["output"] == "center" else 0


def decoder_channels(cfg):
    """Widths of the up-convolutions, the last one the image channels."""
    k = 0
    while (4 << k) < output_size(cfg):
        k += 1
    return [cfg["ngf"] << max(0, 2 - j) for j in range(k - 1)] + [cfg["channels"]]


class DownBlock(nn.Module):
    """Conv 4x4 stride 2 (no bias) [+ BatchNorm] + LeakyReLU(0.2)."""

    def __init__(self, cin, cout, batch_norm):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 4, 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout) if batch_norm else None

    def forward(self, x):
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return F.leaky_relu(x, LEAKY_SLOPE)


class UpBlock(nn.Module):
    """x2 up: ConvTranspose 4x4 stride 2, or bilinear x2 + Conv 3x3; BN + ReLU, or Tanh when last."""

    def __init__(self, cin, cout, last, upsampling):
        super().__init__()
        self.bilinear = upsampling == "bilinear"
        if self.bilinear:
            self.conv = nn.Conv2d(cin, cout, 3, 1, 1, bias=False)
        else:
            self.conv = nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False)
        self.bn = None if last else nn.BatchNorm2d(cout)

    def forward(self, x):
        if self.bilinear:
            x = self.conv(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False))
        else:
            x = self.conv(x)
        return torch.tanh(x) if self.bn is None else F.relu(self.bn(x))


class ChannelwiseFC(nn.Module):
    """The paper's channel-wise fully-connected layer: weight [m, n*n, n*n]."""

    def __init__(self, channels, side):
        super().__init__()
        self.channels, self.side = channels, side
        self.weight = nn.Parameter(torch.randn(channels, side * side, side * side) * 0.02)

    def forward(self, x):
        b = x.shape[0]
        v = x.reshape(b, self.channels, self.side * self.side).transpose(0, 1)  # [m, B, n*n]
        y = torch.bmm(v, self.weight)
        return y.transpose(0, 1).reshape(b, self.channels, self.side, self.side)


class ChannelwiseBottleneck(nn.Module):
    def __init__(self, channels, side, cout):
        super().__init__()
        self.fc = ChannelwiseFC(channels, side)
        self.mix = nn.Conv2d(channels, cout, 1, 1, 0, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.mix(self.fc(x))))


class DenseBottleneck(nn.Module):
    """4x4 conv to an nb-vector and back, stored as matrices [C*16, nb] and [nb, out*16]."""

    def __init__(self, channels, side, nbottleneck, cout):
        super().__init__()
        self.channels, self.side, self.cout = channels, side, cout
        self.encode_weight = nn.Parameter(torch.randn(channels * side * side, nbottleneck) * 0.02)
        self.decode_weight = nn.Parameter(torch.randn(nbottleneck, cout * side * side) * 0.02)
        self.bn_code = nn.BatchNorm1d(nbottleneck)
        self.bn_out = nn.BatchNorm2d(cout)

    def forward(self, x):
        b = x.shape[0]
        code = F.leaky_relu(self.bn_code(x.reshape(b, -1) @ self.encode_weight), LEAKY_SLOPE)
        out = (code @ self.decode_weight).reshape(b, self.cout, self.side, self.side)
        return F.relu(self.bn_out(out))


class Generator(nn.Module):
    """ctxenc's generator for a model config (a dict as `ctxenc info --json` prints under "model")."""

    def __init__(self, config):
        super().__init__()
        cfg = dict(channels=3, nef=64, ngf=64, bottleneck="dense", nbottleneck=4000, output="center",
                   upsampling="transposed", mask_channel=False, residual=False)
        cfg.update(config)
        self.config = cfg
        cin = cfg["channels"] + (1 if cfg["mask_channel"] else 0)
        self.encoder = nn.Sequential()
        for i, cout in enumerate(encoder_channels(cfg)):
            self.encoder.append(DownBlock(cin, cout, batch_norm=i > 0))
            cin = cout
        bout = cfg["ngf"] * 8
        if cfg["bottleneck"] == "dense":
            self.bottleneck = DenseBottleneck(cin, 4, cfg["nbottleneck"], bout)
        elif cfg["bottleneck"] == "channelwise":
            self.bottleneck = ChannelwiseBottleneck(cin, 4, bout)
        else:
            raise ValueError("unknown bottleneck %r" % cfg["bottleneck"])
        self.decoder = nn.Sequential()
        cin = bout
        dec = decoder_channels(cfg)
        for j, cout in enumerate(dec):
            self.decoder.append(UpBlock(cin, cout, last=j + 1 == len(dec), upsampling=cfg["upsampling"]))
            cin = cout

    def forward(self, x):
        """[B, C(+1), S, S] -> [B, C, out, out] in [-1, 1] (residual: the filled input's region + a correction)."""
        h = self.decoder(self.bottleneck(self.encoder(x)))
        if self.config["residual"]:
            o, n = output_offset(self.config), output_size(self.config)
            h = x[:, : self.config["channels"], o:o + n, o:o + n] + h
        return h
