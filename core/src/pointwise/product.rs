//! Matrix products of a batch into a fresh buffer: one `m x n` product per item, written
//! straight into the output by `gemm`, with no zero-fill or copy of the output first.
//!
//! flex allocates every matrix product's output through `FlexTensor::empty`, which zero-fills a
//! byte vector on one thread and then copies it into a 16-byte-aligned buffer (again on one
//! thread), before `gemm` overwrites it: two passes over the output, while the other cores
//! wait. For EfficientNet's 1x1 convolutions at batch 16 those passes were about a quarter of
//! the one-threaded time of a feature-visualization step. Here `gemm` writes into the spare
//! capacity of the output vector (it reads nothing of its destination when told not to), and
//! each finished block is handed to a closure on the same core while it is in cache (the
//! 1x1 convolution adds its bias there).
//!
//! This is the pointwise path's one use of `unsafe`: `gemm` takes raw pointers and strides.
//! [`MatrixView`] checks, when it is made, that every element it addresses lies in its slice,
//! and [`products`] checks the shapes agree; the rest follows from those checks.

use std::mem::MaybeUninit;

/// A matrix read from a slice: element `(r, c)` is `data[r * row_stride + c * col_stride]`,
/// and every such index is inside `data` (checked when the view is made).
#[derive(Debug, Clone, Copy)]
pub struct MatrixView<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> MatrixView<'a> {
    /// The row-major `rows x cols` matrix at the start of `data`; `None` when `data` is shorter
    /// than `rows * cols`.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Option<Self> {
        Self::strided(data, [rows, cols], [cols, 1])
    }

    /// The `rows x cols` matrix with element `(r, c)` at `r * row_stride + c * col_stride`;
    /// `None` when the last element is past the end of `data`.
    fn strided(
        data: &'a [f32],
        [rows, cols]: [usize; 2],
        [row_stride, col_stride]: [usize; 2],
    ) -> Option<Self> {
        let view = Self { data, rows, cols, row_stride, col_stride };
        if rows == 0 || cols == 0 {
            return Some(view);
        }
        let last =
            (rows - 1).checked_mul(row_stride)?.checked_add((cols - 1).checked_mul(col_stride)?)?;
        // Strides must fit gemm's `isize`, and the last element must be inside the slice.
        let fits = isize::try_from(row_stride).is_ok() && isize::try_from(col_stride).is_ok();
        (fits && last < data.len()).then_some(view)
    }

    /// The transpose: a view of the same elements, no copy.
    pub fn transposed(self) -> Self {
        Self {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// The rows and columns.
    pub fn dims(&self) -> [usize; 2] {
        [self.rows, self.cols]
    }
}

/// Products smaller than this many multiply-adds run on one core (flex's threshold for
/// parallel products). Native only: in wasm everything runs on the one thread.
#[cfg(not(target_arch = "wasm32"))]
const PARALLEL_PRODUCT: usize = 192 * 192 * 192;

/// For each pair `(lhs, rhs)` of `pairs`, the `m x n` product `lhs x rhs`, stored row-major one
/// block after another (`pairs.len() * m * n` values), each block then passed to
/// `finish(index, block)` on the core that computed it.
///
/// Natively, at least as many pairs as there are cores run one pair per core, and fewer run in
/// turn with each large product spread over the cores. `None` when a view's shape disagrees
/// with `m`, `n` or the other views, or the size overflows.
pub fn products<F>(
    pairs: &[(MatrixView<'_>, MatrixView<'_>)],
    [m, n]: [usize; 2],
    finish: F,
) -> Option<Vec<f32>>
where
    F: Fn(usize, &mut [f32]) + Sync,
{
    let count = pairs.len();
    let block = m.checked_mul(n)?;
    let total = count.checked_mul(block)?;
    // Check every pair's shapes before writing anything.
    let mut k = None;
    for (lhs, rhs) in pairs {
        let ([lm, lk], [rk, rn]) = (lhs.dims(), rhs.dims());
        if lm != m || rn != n || lk != rk || k.is_some_and(|k| k != lk) {
            return None;
        }
        k = Some(lk);
    }
    let k = k.unwrap_or(0);
    isize::try_from(n).ok()?;
    if k == 0 || block == 0 {
        // An empty sum: gemm is not asked to write zeros.
        let mut out = vec![0.0f32; total];
        if block > 0 {
            out.chunks_mut(block).enumerate().for_each(|(item, b)| finish(item, b));
        }
        return Some(out);
    }
    let mut out: Vec<f32> = Vec::with_capacity(total);
    let spare = out.spare_capacity_mut().get_mut(..total)?;
    let run = |item: usize, dst: &mut [MaybeUninit<f32>], &(lhs, rhs), parallel: bool| {
        finish(item, write_product(dst, lhs, rhs, [m, n, k], parallel));
    };
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        let cores = rayon::current_num_threads();
        if count > 1 && count >= cores {
            let items = spare.par_chunks_mut(block).zip(pairs).enumerate();
            items.for_each(|(item, (dst, pair))| run(item, dst, pair, false));
        } else {
            let parallel = m.saturating_mul(n).saturating_mul(k) >= PARALLEL_PRODUCT;
            let items = spare.chunks_mut(block).zip(pairs).enumerate();
            items.for_each(|(item, (dst, pair))| run(item, dst, pair, parallel));
        }
    }
    #[cfg(target_arch = "wasm32")]
    for (item, (dst, pair)) in spare.chunks_mut(block).zip(pairs).enumerate() {
        run(item, dst, pair, false);
    }
    // SAFETY: `spare` is the first `total` elements of the spare capacity: `count` blocks of
    // `block` elements, zipped with the `count` pairs, and `write_product` wrote every element
    // of each block (it returns only after writing; a panic never reaches this line).
    #[allow(unsafe_code)]
    unsafe {
        out.set_len(total);
    }
    Some(out)
}

/// Writes `lhs x rhs` (`m x k` by `k x n`) row-major into `dst` (`m * n` elements, `k > 0`)
/// and returns it, now initialised; `parallel` spreads the product over the cores.
fn write_product<'d>(
    dst: &'d mut [MaybeUninit<f32>],
    lhs: MatrixView<'_>,
    rhs: MatrixView<'_>,
    [m, n, k]: [usize; 3],
    parallel: bool,
) -> &'d mut [f32] {
    assert!(
        dst.len() == m * n && lhs.dims() == [m, k] && rhs.dims() == [k, n] && k > 0,
        "products: shapes checked by the caller"
    );
    #[cfg(not(target_arch = "wasm32"))]
    let parallelism = if parallel { gemm::Parallelism::Rayon(0) } else { gemm::Parallelism::None };
    #[cfg(target_arch = "wasm32")]
    let parallelism = {
        let _ = parallel;
        gemm::Parallelism::None
    };
    let stride = |s: usize| s as isize; // fits: checked by `MatrixView::strided`
    // SAFETY: `dst` has `m * n` elements, addressed row-major with row stride `n` (which fits
    // `isize`, checked by `products`) and column stride 1. `lhs` and `rhs` address only
    // elements inside their slices (checked by `MatrixView::strided`), with the shapes asserted
    // above. With `read_dst` false, gemm reads nothing of `dst` and writes every element
    // (`dst = 1 * lhs x rhs`, as `k > 0`). The slices do not overlap: `dst` is borrowed mutably.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr().cast::<f32>(),
            1,
            n as isize,
            false,
            lhs.data.as_ptr(),
            stride(lhs.col_stride),
            stride(lhs.row_stride),
            rhs.data.as_ptr(),
            stride(rhs.col_stride),
            stride(rhs.row_stride),
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
        // SAFETY: every element of `dst` was written just above.
        &mut *(dst as *mut [MaybeUninit<f32>] as *mut [f32])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product by three loops.
    fn naive(a: MatrixView<'_>, b: MatrixView<'_>) -> Vec<f32> {
        let ([m, k], [_, n]) = (a.dims(), b.dims());
        let at =
            |v: &MatrixView<'_>, r: usize, c: usize| v.data[r * v.row_stride + c * v.col_stride];
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|p| at(&a, i, p) * at(&b, p, j)).sum();
            }
        }
        out
    }

    fn values(len: usize, seed: u64) -> Vec<f32> {
        crate::rng::SplitMix64::new(seed).normals(len, 1.0)
    }

    #[test]
    fn products_match_three_loops_for_every_batch_strategy() {
        // One pair (gemm's own threads when large), a few, and more pairs than cores.
        for (count, m, n, k) in [(1, 3, 5, 4), (1, 200, 300, 190), (3, 7, 11, 2), (17, 9, 33, 16)] {
            let a = values(m * k, 1);
            let b = values(count * k * n, 2);
            let pairs: Vec<_> = (0..count)
                .map(|i| {
                    let lhs = MatrixView::row_major(&a, m, k).unwrap();
                    (lhs, MatrixView::row_major(&b[i * k * n..], k, n).unwrap())
                })
                .collect();
            let out = products(&pairs, [m, n], |item, block: &mut [f32]| {
                block[0] += item as f32 * 1000.0;
            })
            .unwrap();
            assert_eq!(out.len(), count * m * n);
            for (item, &(lhs, rhs)) in pairs.iter().enumerate() {
                let mut want = naive(lhs, rhs);
                want[0] += item as f32 * 1000.0;
                let got = &out[item * m * n..(item + 1) * m * n];
                for (g, w) in got.iter().zip(&want) {
                    assert!((g - w).abs() <= 1e-4 * w.abs().max(1.0), "{count} {m} {n} {k}");
                }
            }
        }
    }

    #[test]
    fn transposed_views_read_the_same_elements() {
        let (m, k, n) = (5, 6, 4);
        let w = values(m * k, 3); // [m, k], used as its transpose [k, m]
        let g = values(m * n, 4); // [m, n]
        let pair = (
            MatrixView::row_major(&w, m, k).unwrap().transposed(),
            MatrixView::row_major(&g, m, n).unwrap(),
        );
        let out = products(&[pair], [k, n], |_, _| {}).unwrap();
        for r in 0..k {
            for c in 0..n {
                let want: f32 = (0..m).map(|p| w[p * k + r] * g[p * n + c]).sum();
                assert!((out[r * n + c] - want).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn views_past_their_slice_and_disagreeing_shapes_are_refused() {
        let data = values(12, 5);
        assert!(MatrixView::row_major(&data, 3, 4).is_some());
        assert!(MatrixView::row_major(&data, 4, 4).is_none());
        assert!(MatrixView::row_major(&data[1..], 3, 4).is_none());
        assert!(MatrixView::row_major(&data, 0, 4).is_some());
        let a = MatrixView::row_major(&data, 3, 4).unwrap(); // 3 x 4
        let b = MatrixView::row_major(&data, 4, 3).unwrap(); // 4 x 3
        assert!(products(&[(a, b)], [3, 3], |_, _| {}).is_some());
        // m disagrees (3 against 2), n disagrees, k disagrees (4 against 3).
        assert!(products(&[(a, b)], [2, 3], |_, _| {}).is_none());
        assert!(products(&[(a, b)], [3, 4], |_, _| {}).is_none());
        assert!(products(&[(a, a)], [3, 4], |_, _| {}).is_none());
        // Two pairs whose inner sizes differ.
        let c = MatrixView::row_major(&data, 3, 3).unwrap();
        assert!(products(&[(a, b), (c, c)], [3, 3], |_, _| {}).is_none());
    }

    #[test]
    fn an_empty_sum_is_zero() {
        let empty: [f32; 0] = [];
        let lhs = MatrixView::row_major(&empty, 2, 0).unwrap();
        let rhs = MatrixView::row_major(&empty, 0, 3).unwrap();
        let out = products(&[(lhs, rhs), (lhs, rhs)], [2, 3], |_, block: &mut [f32]| {
            block[1] = 7.0;
        })
        .unwrap();
        assert_eq!(out, [0.0, 7.0, 0.0, 0.0, 0.0, 0.0, 0.0, 7.0, 0.0, 0.0, 0.0, 0.0]);
    }
}
