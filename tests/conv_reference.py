"""Float64 numpy references for the convolution and pooling layers, written from the definitions
(a sum over kernel taps of strided slices; a loop over output windows), not from the core's im2col."""
import numpy as np


def same_padding(size, window, stride, dilation=1):
    """TensorFlow/XLA 'SAME': output ceil(size / stride); the padding split evenly, the odd one after."""
    span = (window - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return total // 2, total - total // 2


def pads_for(padding, sizes, windows, strides, dilations):
    if padding == "valid":
        return [(0, 0)] * len(sizes)
    if padding == "causal":
        return [((windows[0] - 1) * dilations[0], 0)]
    return [same_padding(s, k, st, d) for s, k, st, d in zip(sizes, windows, strides, dilations)]


def conv2d(x, kernel, bias=None, strides=(1, 1), padding="valid", dilation=(1, 1), groups=1):
    """x (n, h, w, c), kernel (kh, kw, c / groups, f): sum over the kernel's taps of the strided
    input slice it meets, times that tap's (c / groups, f / groups) matrix, per group."""
    kh, kw, cg, f = kernel.shape
    (pt, pb), (pl, pr) = pads_for(padding, x.shape[1:3], (kh, kw), strides, dilation)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    oh = (xp.shape[1] - (kh - 1) * dilation[0] - 1) // strides[0] + 1
    ow = (xp.shape[2] - (kw - 1) * dilation[1] - 1) // strides[1] + 1
    fg = f // groups
    out = np.zeros((x.shape[0], oh, ow, f))
    for i in range(kh):
        for j in range(kw):
            r0, c0 = i * dilation[0], j * dilation[1]
            patch = xp[:, r0:r0 + (oh - 1) * strides[0] + 1:strides[0], c0:c0 + (ow - 1) * strides[1] + 1:strides[1]]
            for g in range(groups):
                out[..., g * fg:(g + 1) * fg] += patch[..., g * cg:(g + 1) * cg] @ kernel[i, j, :, g * fg:(g + 1) * fg]
    return out if bias is None else out + bias


def conv1d(x, kernel, bias=None, strides=1, padding="valid", dilation=1, groups=1):
    """x (n, t, c), kernel (k, c / groups, f): conv2d on a height-1 image, causal padding before only."""
    if padding == "causal":
        x = np.pad(x, ((0, 0), ((kernel.shape[0] - 1) * dilation, 0), (0, 0)))
        padding = "valid"
    return conv2d(x[:, None], kernel[None], bias, (1, strides), padding, (1, dilation), groups)[:, 0]


def pool2d(x, pool, strides, padding, mode):
    """Max or mean over each window, by an explicit loop over output positions; padded positions are
    left out (a 'same' average divides by the window's positions inside the input)."""
    (pt, _), (pl, _) = pads_for(padding, x.shape[1:3], pool, strides, (1, 1))
    if padding == "valid":
        oh, ow = [(s - k) // st + 1 for s, k, st in zip(x.shape[1:3], pool, strides)]
    else:
        oh, ow = [-(-s // st) for s, st in zip(x.shape[1:3], strides)]
    out = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for a in range(oh):
        for b in range(ow):
            h0, w0 = a * strides[0] - pt, b * strides[1] - pl
            window = x[:, max(h0, 0):h0 + pool[0], max(w0, 0):w0 + pool[1]]
            out[:, a, b] = window.max(axis=(1, 2)) if mode == "max" else window.mean(axis=(1, 2))
    return out


def pool1d(x, pool, strides, padding, mode):
    return pool2d(x[:, None], (1, pool), (1, strides), padding, mode)[:, 0]
