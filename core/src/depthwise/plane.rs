//! The input gradient of a depthwise convolution on one `(image, channel)` plane, in plain Rust
//! over slices: every output-gradient value is spread back over the input positions its window
//! read, weighted by the tap that read each one.
//!
//! Rows of the output gradient are walked once; for each, the at most `kernel_h` input rows it
//! touches stay in L1, and the innermost loop is a contiguous multiply-add that LLVM vectorises
//! (with a column stride and a wide window, on a scratch plane that keeps each phase of the
//! columns contiguous). Window positions outside the input (padding) are
//! skipped by computing each tap's valid output range once, so the loops carry no bounds tests.

/// The narrowest window (taps per row) whose strided gradient goes through a phase-split
/// scratch plane: measured on EfficientNet's planes, 5 taps gain about 2x, 3 taps lose.
const PHASE_SPLIT_MIN_TAPS: usize = 5;

/// The shape of one plane's convolution: sizes, window and how it is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaneGeometry {
    /// Input rows and columns `[H, W]`.
    pub input: [usize; 2],
    /// Output rows and columns `[OH, OW]`.
    pub output: [usize; 2],
    /// Window taps `[kH, kW]`.
    pub kernel: [usize; 2],
    /// Step between windows `[sH, sW]` (0 counts as 1).
    pub stride: [usize; 2],
    /// Spacing between taps `[dH, dW]` (0 counts as 1).
    pub dilation: [usize; 2],
    /// Padding before the first row and column `[top, left]` (the padding after follows from
    /// the output size).
    pub pad_begin: [usize; 2],
}

impl PlaneGeometry {
    /// For tap `k` of `axis`: the output positions `[start, end)` whose window places that tap
    /// inside the input (`o * stride + k * dilation - pad` in `[0, input)`).
    fn valid_outputs(&self, axis: usize, k: usize) -> (usize, usize) {
        let (Some(&stride), Some(&dilation), Some(&pad), Some(&input), Some(&output)) = (
            self.stride.get(axis),
            self.dilation.get(axis),
            self.pad_begin.get(axis),
            self.input.get(axis),
            self.output.get(axis),
        ) else {
            return (0, 0);
        };
        let (stride, dilation) = (stride.max(1), dilation.max(1));
        let offset = k * dilation;
        let start = pad.saturating_sub(offset).div_ceil(stride);
        let end = (input + pad).saturating_sub(offset).div_ceil(stride).min(output);
        (start.min(end), end)
    }

    /// The taps of `axis` that some output position reaches, each with its output range and the
    /// input position the first of those outputs reads; taps that land only in padding are left
    /// out (their range is empty, and its start may lie before the input).
    fn reaches(&self, axis: usize) -> Vec<Reach> {
        let (Some(&taps), Some(&stride), Some(&dilation), Some(&pad)) = (
            self.kernel.get(axis),
            self.stride.get(axis),
            self.dilation.get(axis),
            self.pad_begin.get(axis),
        ) else {
            return Vec::new();
        };
        let (stride, dilation) = (stride.max(1), dilation.max(1));
        (0..taps)
            .filter_map(|tap| {
                let (start, end) = self.valid_outputs(axis, tap);
                let first_input = (start * stride + tap * dilation).checked_sub(pad)?;
                (start < end).then_some(Reach { tap, outputs: start..end, first_input })
            })
            .collect()
    }
}

/// One tap of one axis: the output positions whose window places it inside the input, and the
/// input position it reads for the first of them (each later output reads `stride` further).
struct Reach {
    tap: usize,
    outputs: std::ops::Range<usize>,
    first_input: usize,
}

/// The row taps that reach output row `oh`, each with the input row it reads there.
fn taps_at(rows: &[Reach], oh: usize, stride: usize) -> impl Iterator<Item = (usize, usize)> {
    rows.iter()
        .filter(move |r| r.outputs.contains(&oh))
        .map(move |r| (r.tap, r.first_input + (oh - r.outputs.start) * stride))
}

/// Adds one plane's input gradient to `grad_input` (`[H, W]`, row-major; zero it first for the
/// gradient alone), from `grad_output` (`[OH, OW]`) and the channel's taps `weight`
/// (`[kH, kW]`).
///
/// Slices shorter than the geometry says leave the missing part untouched.
#[inline(always)] // into `pulp`'s dispatch, which compiles it for the widest vectors the CPU has
pub fn add_input_grad(
    grad_input: &mut [f32],
    grad_output: &[f32],
    weight: &[f32],
    geometry: &PlaneGeometry,
) {
    let [in_h, in_w] = geometry.input;
    let [_, out_w] = geometry.output;
    let kernel_w = geometry.kernel[1];
    let [stride_h, stride_w] = geometry.stride.map(|s| s.max(1));
    if in_w == 0 || out_w == 0 || kernel_w == 0 {
        return;
    }
    let rows = geometry.reaches(0);
    let columns = geometry.reaches(1);
    // With a column stride, each tap writes every `stride_w`-th column. For wide windows,
    // accumulate into a scratch plane whose rows hold the columns of each phase
    // (`iw % stride_w`) contiguously, so that the inner loop stays a contiguous multiply-add,
    // and interleave once at the end; narrower windows write strided (the scratch plane and the
    // interleaving pass cost more than they save there).
    let phases = if kernel_w >= PHASE_SPLIT_MIN_TAPS { stride_w } else { 1 };
    let cols = in_w.div_ceil(phases);
    let row_len = phases * cols;
    let mut scratch = if phases > 1 { vec![0.0f32; in_h * row_len] } else { Vec::new() };
    let target: &mut [f32] = if phases > 1 { &mut scratch } else { &mut *grad_input };

    for (oh, go_row) in grad_output.chunks_exact(out_w).enumerate() {
        for (row_tap, ih) in taps_at(&rows, oh, stride_h) {
            let (Some(row), Some(taps)) = (
                target.get_mut(ih * row_len..(ih + 1) * row_len),
                weight.get(row_tap * kernel_w..(row_tap + 1) * kernel_w),
            ) else {
                continue;
            };
            for column in &columns {
                let (Some(go), Some(&tap)) =
                    (go_row.get(column.outputs.clone()), taps.get(column.tap))
                else {
                    continue;
                };
                let iw_start = column.first_input;
                if phases == 1 && stride_w > 1 {
                    let Some(gi) = row.get_mut(iw_start..) else {
                        continue;
                    };
                    for (i, &g) in gi.iter_mut().step_by(stride_w).zip(go) {
                        *i += g * tap;
                    }
                    continue;
                }
                let start = (iw_start % phases) * cols + iw_start / phases;
                let Some(gi) = row.get_mut(start..start + go.len()) else {
                    continue;
                };
                for (i, &g) in gi.iter_mut().zip(go) {
                    *i += g * tap;
                }
            }
        }
    }
    if phases > 1 {
        for (gi_row, phased) in grad_input.chunks_exact_mut(in_w).zip(scratch.chunks_exact(row_len))
        {
            for (phase, values) in phased.chunks_exact(cols).enumerate() {
                for (g, &v) in gi_row.iter_mut().skip(phase).step_by(phases).zip(values) {
                    *g += v;
                }
            }
        }
    }
}

/// One plane's convolution: `output` (`[OH, OW]`, row-major) is set to `bias` plus the
/// window sums of `input` (`[H, W]`) with the channel's taps `weight` (`[kH, kW]`), windows
/// reaching into the padding taking nothing from it. `scratch` is working space (any
/// contents; resized as needed), reused across planes by the caller.
///
/// Every output row is written once: filled with the bias, then each tap's contiguous run of
/// the row is a multiply-add that LLVM vectorises; taps are summed in the definition's order
/// (rows, then columns). (Summing blocks of 8 outputs over all taps in registers was measured
/// slower on EfficientNet's planes: their rows are short, and the edges fall to scalar code.) With a column stride the input plane is
/// first copied into `scratch` with each phase of its columns (`iw % stride_w`) contiguous,
/// so that the strided reads become contiguous ones too.
///
/// Slices shorter than the geometry says leave the missing part untouched.
#[inline(always)] // into `pulp`'s dispatch, which compiles it for the widest vectors the CPU has
pub fn convolve(
    output: &mut [f32],
    input: &[f32],
    weight: &[f32],
    bias: f32,
    geometry: &PlaneGeometry,
    scratch: &mut Vec<f32>,
) {
    let [in_h, in_w] = geometry.input;
    let [_, out_w] = geometry.output;
    let kernel_w = geometry.kernel[1];
    let [stride_h, stride_w] = geometry.stride.map(|s| s.max(1));
    if in_w == 0 || out_w == 0 || kernel_w == 0 {
        return;
    }
    let rows = geometry.reaches(0);
    let columns = geometry.reaches(1);
    let phases = stride_w;
    let cols = in_w.div_ceil(phases);
    let row_len = phases * cols;
    let source: &[f32] = if phases > 1 {
        scratch.clear();
        scratch.resize(in_h * row_len, 0.0);
        for (row, phased) in input.chunks_exact(in_w).zip(scratch.chunks_exact_mut(row_len)) {
            for (phase, values) in phased.chunks_exact_mut(cols).enumerate() {
                for (v, &x) in values.iter_mut().zip(row.iter().skip(phase).step_by(phases)) {
                    *v = x;
                }
            }
        }
        scratch
    } else {
        input
    };

    for (oh, out_row) in output.chunks_exact_mut(out_w).enumerate() {
        out_row.fill(bias);
        for (row_tap, ih) in taps_at(&rows, oh, stride_h) {
            let (Some(row), Some(taps)) = (
                source.get(ih * row_len..(ih + 1) * row_len),
                weight.get(row_tap * kernel_w..(row_tap + 1) * kernel_w),
            ) else {
                continue;
            };
            for column in &columns {
                let (Some(out), Some(&tap)) =
                    (out_row.get_mut(column.outputs.clone()), taps.get(column.tap))
                else {
                    continue;
                };
                let iw_start = column.first_input;
                let start = (iw_start % phases) * cols + iw_start / phases;
                let Some(values) = row.get(start..start + out.len()) else {
                    continue;
                };
                for (o, &x) in out.iter_mut().zip(values) {
                    *o += x * tap;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The gradient by definition: every (output, tap) pair whose input position is inside.
    fn naive(go: &[f32], w: &[f32], g: &PlaneGeometry) -> Vec<f32> {
        let [h, wd] = g.input;
        let [oh, ow] = g.output;
        let [kh, kw] = g.kernel;
        let mut gi = vec![0.0f32; h * wd];
        for y in 0..oh {
            for x in 0..ow {
                for ky in 0..kh {
                    for kx in 0..kw {
                        let iy = (y * g.stride[0] + ky * g.dilation[0]) as isize
                            - g.pad_begin[0] as isize;
                        let ix = (x * g.stride[1] + kx * g.dilation[1]) as isize
                            - g.pad_begin[1] as isize;
                        if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                            continue;
                        }
                        gi[iy as usize * wd + ix as usize] += go[y * ow + x] * w[ky * kw + kx];
                    }
                }
            }
        }
        gi
    }

    /// The convolution by definition: every tap whose input position is inside.
    fn naive_forward(x: &[f32], w: &[f32], bias: f32, g: &PlaneGeometry) -> Vec<f32> {
        let [h, wd] = g.input;
        let [oh, ow] = g.output;
        let [kh, kw] = g.kernel;
        let mut out = vec![bias; oh * ow];
        for y in 0..oh {
            for xo in 0..ow {
                for ky in 0..kh {
                    for kx in 0..kw {
                        let iy = (y * g.stride[0] + ky * g.dilation[0]) as isize
                            - g.pad_begin[0] as isize;
                        let ix = (xo * g.stride[1] + kx * g.dilation[1]) as isize
                            - g.pad_begin[1] as isize;
                        if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                            continue;
                        }
                        out[y * ow + xo] += x[iy as usize * wd + ix as usize] * w[ky * kw + kx];
                    }
                }
            }
        }
        out
    }

    #[test]
    fn depthwise_plane_matches_the_definition() {
        // (input, kernel, stride, dilation, pad begin, pad end)
        let cases = [
            ([7, 9], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1]),
            ([8, 8], [3, 3], [2, 2], [1, 1], [0, 0], [1, 1]),
            ([9, 7], [5, 5], [2, 2], [2, 1], [2, 2], [2, 2]),
            ([6, 11], [5, 3], [1, 2], [1, 1], [2, 1], [2, 0]),
            ([10, 10], [3, 3], [1, 1], [2, 2], [2, 2], [2, 2]),
            ([5, 5], [3, 3], [3, 3], [1, 1], [0, 0], [0, 0]),
            // Rows wide enough for whole blocks of outputs, with a remainder.
            ([9, 40], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1]),
            ([12, 45], [5, 5], [2, 2], [1, 1], [1, 2], [2, 2]),
            ([7, 33], [3, 3], [2, 2], [1, 1], [0, 0], [1, 1]),
            ([6, 29], [5, 5], [1, 1], [1, 1], [2, 2], [2, 2]),
        ];
        for (input, kernel, stride, dilation, begin, end) in cases {
            let output = [0, 1].map(|a| {
                (input[a] + begin[a] + end[a] - (kernel[a] - 1) * dilation[a] - 1) / stride[a] + 1
            });
            let g = PlaneGeometry { input, output, kernel, stride, dilation, pad_begin: begin };
            let go: Vec<f32> =
                (0..output[0] * output[1]).map(|i| ((i * 37 % 11) as f32 - 5.0) * 0.3).collect();
            let w: Vec<f32> =
                (0..kernel[0] * kernel[1]).map(|i| ((i * 7 % 5) as f32 - 2.0) * 0.7).collect();
            let mut gi = vec![0.0f32; input[0] * input[1]];
            add_input_grad(&mut gi, &go, &w, &g);
            let want = naive(&go, &w, &g);
            for (a, b) in gi.iter().zip(&want) {
                assert!((a - b).abs() < 1e-4, "{g:?}: {a} vs {b}");
            }

            let x: Vec<f32> =
                (0..input[0] * input[1]).map(|i| ((i * 13 % 17) as f32 - 8.0) * 0.2).collect();
            // A scratch buffer left over from another plane, of the wrong size and contents.
            let mut scratch = vec![7.0f32; 3];
            let mut out = vec![f32::NAN; output[0] * output[1]];
            convolve(&mut out, &x, &w, 0.25, &g, &mut scratch);
            let want = naive_forward(&x, &w, 0.25, &g);
            // The same sums in the same order: equal to the last bit.
            for (a, b) in out.iter().zip(&want) {
                assert_eq!(a.to_bits(), b.to_bits(), "forward {g:?}: {a} vs {b}");
            }
        }
    }
}
