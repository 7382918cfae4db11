//! Reference operators as plain nested loops over row-major `Vec<f32>`, written from the
//! ONNX operator specifications, independently of the graph module's kernels.

/// A dense tensor: shape and row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct Nd {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Nd {
    pub fn new(shape: &[usize], data: Vec<f32>) -> Self {
        assert_eq!(shape.iter().product::<usize>(), data.len());
        Self { shape: shape.to_vec(), data }
    }

    fn dims4(&self) -> [usize; 4] {
        self.shape.clone().try_into().expect("rank 4")
    }

    fn at4(&self, n: usize, c: usize, h: usize, w: usize) -> f32 {
        let [_, cs, hs, ws] = self.dims4();
        self.data[((n * cs + c) * hs + h) * ws + w]
    }

    /// The same values with another shape.
    pub fn reshape(&self, shape: &[usize]) -> Nd {
        Nd::new(shape, self.data.clone())
    }

    /// Elementwise `f`.
    pub fn map(&self, f: impl Fn(f32) -> f32) -> Nd {
        Nd::new(&self.shape, self.data.iter().map(|&v| f(v)).collect())
    }
}

fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for a in (0..shape.len()).rev() {
        idx[a] = i % shape[a];
        i /= shape[a];
    }
    idx
}

/// ONNX Conv: `pads` = `[top, left, bottom, right]`.
pub fn conv(
    x: &Nd,
    w: &Nd,
    b: Option<&[f32]>,
    stride: [usize; 2],
    pads: [usize; 4],
    dil: [usize; 2],
    groups: usize,
) -> Nd {
    let [n, c, h, wd] = x.dims4();
    let [m, cg, kh, kw] = w.dims4();
    assert_eq!(c, cg * groups);
    let oh = (h + pads[0] + pads[2] - dil[0] * (kh - 1) - 1) / stride[0] + 1;
    let ow = (wd + pads[1] + pads[3] - dil[1] * (kw - 1) - 1) / stride[1] + 1;
    let mg = m / groups;
    let mut out = vec![0.0f32; n * m * oh * ow];
    for bn in 0..n {
        for o in 0..m {
            let g = o / mg;
            for y in 0..oh {
                for xo in 0..ow {
                    let mut acc = b.map_or(0.0, |b| b[o]) as f64;
                    for ci in 0..cg {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy = (y * stride[0] + ky * dil[0]) as isize - pads[0] as isize;
                                let ix = (xo * stride[1] + kx * dil[1]) as isize - pads[1] as isize;
                                if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                    continue;
                                }
                                let xv = x.at4(bn, g * cg + ci, iy as usize, ix as usize);
                                acc += f64::from(xv) * f64::from(w.at4(o, ci, ky, kx));
                            }
                        }
                    }
                    out[((bn * m + o) * oh + y) * ow + xo] = acc as f32;
                }
            }
        }
    }
    Nd::new(&[n, m, oh, ow], out)
}

/// TensorFlow SAME_UPPER pads `[top, left, bottom, right]` for a kernel and stride.
pub fn same_upper(h: usize, w: usize, k: [usize; 2], s: [usize; 2]) -> [usize; 4] {
    let total = |i: usize, k: usize, s: usize| ((i.div_ceil(s) - 1) * s + k).saturating_sub(i);
    let (th, tw) = (total(h, k[0], s[0]), total(w, k[1], s[1]));
    [th / 2, tw / 2, th - th / 2, tw - tw / 2]
}

/// Inference batch norm over axis 1.
pub fn batch_norm(x: &Nd, scale: &[f32], bias: &[f32], mean: &[f32], var: &[f32], eps: f32) -> Nd {
    let c = x.shape[1];
    let inner: usize = x.shape[2..].iter().product();
    let mut out = x.data.clone();
    for (i, v) in out.iter_mut().enumerate() {
        let ch = (i / inner) % c;
        *v = (*v - mean[ch]) / (var[ch] + eps).sqrt() * scale[ch] + bias[ch];
    }
    Nd::new(&x.shape, out)
}

/// Numpy-broadcast binary `f`.
pub fn binary(a: &Nd, b: &Nd, f: impl Fn(f32, f32) -> f32) -> Nd {
    let rank = a.shape.len().max(b.shape.len());
    let pad = |s: &[usize]| {
        let mut p = vec![1; rank - s.len()];
        p.extend_from_slice(s);
        p
    };
    let (sa, sb) = (pad(&a.shape), pad(&b.shape));
    let shape: Vec<usize> = sa.iter().zip(&sb).map(|(&x, &y)| x.max(y)).collect();
    let (ta, tb) = (strides(&sa), strides(&sb));
    let total: usize = shape.iter().product();
    let data = (0..total)
        .map(|i| {
            let idx = unravel(i, &shape);
            let ia: usize =
                idx.iter().enumerate().map(|(k, &v)| if sa[k] == 1 { 0 } else { v * ta[k] }).sum();
            let ib: usize =
                idx.iter().enumerate().map(|(k, &v)| if sb[k] == 1 { 0 } else { v * tb[k] }).sum();
            f(a.data[ia], b.data[ib])
        })
        .collect();
    Nd::new(&shape, data)
}

/// Concatenation along `axis`.
pub fn concat(xs: &[&Nd], axis: usize) -> Nd {
    let mut shape = xs[0].shape.clone();
    shape[axis] = xs.iter().map(|x| x.shape[axis]).sum();
    let outer: usize = shape[..axis].iter().product();
    let mut data = Vec::new();
    for o in 0..outer {
        for x in xs {
            let chunk: usize = x.shape[axis..].iter().product();
            data.extend_from_slice(&x.data[o * chunk..(o + 1) * chunk]);
        }
    }
    Nd::new(&shape, data)
}

/// Pool output size with the PyTorch/ONNX ceil rule.
fn pool_size(i: usize, k: usize, s: usize, pb: usize, pe: usize, d: usize, ceil: bool) -> usize {
    let span = d * (k - 1) + 1;
    let room = i + pb + pe - span;
    let mut o = if ceil { room.div_ceil(s) } else { room / s } + 1;
    if ceil && (o - 1) * s >= i + pb {
        o -= 1;
    }
    o
}

/// MaxPool or AveragePool; `pads` = `[top, left, bottom, right]`.
pub fn pool(
    x: &Nd,
    max: bool,
    k: [usize; 2],
    s: [usize; 2],
    pads: [usize; 4],
    dil: [usize; 2],
    ceil: bool,
    count_pad: bool,
) -> Nd {
    let [n, c, h, w] = x.dims4();
    let oh = pool_size(h, k[0], s[0], pads[0], pads[2], dil[0], ceil);
    let ow = pool_size(w, k[1], s[1], pads[1], pads[3], dil[1], ceil);
    let mut out = Vec::with_capacity(n * c * oh * ow);
    for bn in 0..n {
        for ch in 0..c {
            for y in 0..oh {
                for xo in 0..ow {
                    let (mut best, mut sum, mut count, mut padded_count) =
                        (f32::NEG_INFINITY, 0.0f64, 0usize, 0usize);
                    for ky in 0..k[0] {
                        for kx in 0..k[1] {
                            let iy = (y * s[0] + ky * dil[0]) as isize - pads[0] as isize;
                            let ix = (xo * s[1] + kx * dil[1]) as isize - pads[1] as isize;
                            // Positions inside input + padding count for count_include_pad.
                            if iy < h as isize + pads[2] as isize
                                && ix < w as isize + pads[3] as isize
                            {
                                padded_count += 1;
                            }
                            if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                continue;
                            }
                            let v = x.at4(bn, ch, iy as usize, ix as usize);
                            best = best.max(v);
                            sum += f64::from(v);
                            count += 1;
                        }
                    }
                    out.push(if max {
                        best
                    } else {
                        (sum / if count_pad { padded_count } else { count } as f64) as f32
                    });
                }
            }
        }
    }
    Nd::new(&[n, c, oh, ow], out)
}

/// GlobalAveragePool.
pub fn global_avg(x: &Nd) -> Nd {
    let [n, c, h, w] = x.dims4();
    let data = x
        .data
        .chunks(h * w)
        .map(|p| (p.iter().map(|&v| f64::from(v)).sum::<f64>() / (h * w) as f64) as f32)
        .collect();
    Nd::new(&[n, c, 1, 1], data)
}

/// 2-d matrix product (or batched, broadcasting leading axes of equal rank inputs).
pub fn matmul(a: &Nd, b: &Nd) -> Nd {
    let (ra, rb) = (a.shape.len(), b.shape.len());
    let (m, k) = (a.shape[ra - 2], a.shape[ra - 1]);
    let n = b.shape[rb - 1];
    assert_eq!(b.shape[rb - 2], k);
    let rank = ra.max(rb);
    let pad = |s: &[usize]| {
        let mut p = vec![1; rank - s.len()];
        p.extend_from_slice(s);
        p
    };
    let (sa, sb) = (pad(&a.shape), pad(&b.shape));
    let batch: Vec<usize> = (0..rank - 2).map(|i| sa[i].max(sb[i])).collect();
    let nb: usize = batch.iter().product();
    let mut out = Vec::new();
    for bi in 0..nb {
        let idx = unravel(bi, &batch);
        let off = |s: &[usize]| {
            let mut o = 0;
            for (i, &v) in idx.iter().enumerate() {
                o = o * s[i] + if s[i] == 1 { 0 } else { v };
            }
            o
        };
        let (oa, ob) = (off(&sa) * m * k, off(&sb) * k * n);
        for i in 0..m {
            for j in 0..n {
                let acc: f64 = (0..k)
                    .map(|t| f64::from(a.data[oa + i * k + t]) * f64::from(b.data[ob + t * n + j]))
                    .sum();
                out.push(acc as f32);
            }
        }
    }
    let mut shape = batch;
    shape.extend([m, n]);
    Nd::new(&shape, out)
}

/// Gemm `alpha * A * B' + beta * C` with `B' = B` or `B^T`, `C` broadcast over rows.
pub fn gemm(a: &Nd, b: &Nd, c: &[f32], alpha: f32, beta: f32, trans_b: bool) -> Nd {
    let (m, k) = (a.shape[0], a.shape[1]);
    let n = if trans_b { b.shape[0] } else { b.shape[1] };
    let mut out = Vec::with_capacity(m * n);
    for i in 0..m {
        for j in 0..n {
            let acc: f64 = (0..k)
                .map(|t| {
                    let bv = if trans_b { b.data[j * k + t] } else { b.data[t * n + j] };
                    f64::from(a.data[i * k + t]) * f64::from(bv)
                })
                .sum();
            let cv = if c.len() == 1 { c[0] } else { c[j] };
            out.push(alpha * acc as f32 + beta * cv);
        }
    }
    Nd::new(&[m, n], out)
}

/// Pad with `pads` = `[begin per axis..., end per axis...]`; mode constant/reflect/edge.
pub fn pad(x: &Nd, pads: &[usize], mode: &str, value: f32) -> Nd {
    let r = x.shape.len();
    let shape: Vec<usize> = (0..r).map(|a| x.shape[a] + pads[a] + pads[a + r]).collect();
    let st = strides(&x.shape);
    let total: usize = shape.iter().product();
    let data = (0..total)
        .map(|i| {
            let idx = unravel(i, &shape);
            let mut src = 0usize;
            for a in 0..r {
                let p = idx[a] as isize - pads[a] as isize;
                let d = x.shape[a] as isize;
                let j = if (0..d).contains(&p) {
                    p
                } else {
                    match mode {
                        "constant" => return value,
                        "edge" => p.clamp(0, d - 1),
                        "reflect" => {
                            if p < 0 {
                                -p
                            } else {
                                2 * (d - 1) - p
                            }
                        }
                        _ => panic!("mode"),
                    }
                };
                src += j as usize * st[a];
            }
            x.data[src]
        })
        .collect();
    Nd::new(&shape, data)
}

/// ONNX Resize of every axis to `out` (nearest or linear, n-linear interpolation), straight
/// from the operator's definition: each output element is computed from its own
/// coordinates.
pub fn resize(
    x: &Nd,
    out: &[usize],
    scales: &[f32],
    linear: bool,
    transform: &str,
    nearest: &str,
) -> Nd {
    let r = x.shape.len();
    let st = strides(&x.shape);
    let total: usize = out.iter().product();
    // Coordinates in f32, as ONNX Runtime computes them (ties such as 1.5 / 0.6 = 2.5 round
    // the same way).
    let orig = |a: usize, o: usize| -> f64 {
        let (i_len, o_len) = (x.shape[a] as f32, out[a] as f32);
        let s = scales[a];
        let o = o as f32;
        f64::from(match transform {
            "half_pixel" => (o + 0.5) / s - 0.5,
            "pytorch_half_pixel" => {
                if o_len > 1.0 {
                    (o + 0.5) / s - 0.5
                } else {
                    0.0
                }
            }
            "align_corners" => {
                if o_len > 1.0 {
                    o * (i_len - 1.0) / (o_len - 1.0)
                } else {
                    0.0
                }
            }
            "asymmetric" => o / s,
            "tf_half_pixel_for_nn" => (o + 0.5) / s,
            _ => panic!("transform"),
        })
    };
    let data = (0..total)
        .map(|i| {
            let idx = unravel(i, out);
            // Per axis: list of (index, weight).
            let taps: Vec<Vec<(usize, f64)>> = (0..r)
                .map(|a| {
                    let last = x.shape[a] as f64 - 1.0;
                    if x.shape[a] == out[a] && scales[a] == 1.0 {
                        return vec![(idx[a], 1.0)];
                    }
                    let c = orig(a, idx[a]);
                    if linear {
                        let c = c.clamp(0.0, last);
                        let lo = c.floor();
                        let hi = (lo + 1.0).min(last);
                        vec![(lo as usize, 1.0 - (c - lo)), (hi as usize, c - lo)]
                    } else {
                        let frac = c - c.floor();
                        let n = match nearest {
                            "round_prefer_floor" => {
                                if frac == 0.5 {
                                    c.floor()
                                } else {
                                    c.round()
                                }
                            }
                            "round_prefer_ceil" => {
                                if frac == 0.5 {
                                    c.ceil()
                                } else {
                                    c.round()
                                }
                            }
                            "floor" => c.floor(),
                            "ceil" => c.ceil(),
                            _ => panic!("nearest"),
                        };
                        vec![(n.clamp(0.0, last) as usize, 1.0)]
                    }
                })
                .collect();
            // Sum over the product of taps.
            let mut acc = 0.0f64;
            let mut combo = vec![0usize; r];
            loop {
                let mut w = 1.0;
                let mut src = 0;
                for a in 0..r {
                    let (j, wt) = taps[a][combo[a]];
                    w *= wt;
                    src += j * st[a];
                }
                acc += w * f64::from(x.data[src]);
                let mut a = r;
                loop {
                    if a == 0 {
                        return acc as f32;
                    }
                    a -= 1;
                    combo[a] += 1;
                    if combo[a] < taps[a].len() {
                        break;
                    }
                    combo[a] = 0;
                }
            }
        })
        .collect();
    Nd::new(out, data)
}

/// Softmax along the last axis.
pub fn softmax_last(x: &Nd) -> Nd {
    let n = *x.shape.last().unwrap();
    let data = x
        .data
        .chunks(n)
        .flat_map(|row| {
            let m = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            let e: Vec<f64> = row.iter().map(|&v| f64::from(v - m).exp()).collect();
            let s: f64 = e.iter().sum();
            e.into_iter().map(move |v| (v / s) as f32)
        })
        .collect();
    Nd::new(&x.shape, data)
}

pub fn sigmoid(v: f32) -> f32 {
    1.0 / (1.0 + (-v).exp())
}
