//! IEEE 754 half precision (`float16`) to and from `f32`: weight files may store tensors as
//! 16-bit floats (half the download for the in-browser renderer); every reader widens them to
//! `f32` on load, exactly.

/// Half precision to single precision (exact: every `f16` is an `f32`).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exponent = u32::from((h >> 10) & 0x1f);
    let mantissa = u32::from(h & 0x3ff);
    let bits = match exponent {
        0 if mantissa == 0 => sign,
        0 => {
            // Subnormal: mantissa * 2^-24, exact in f32.
            let magnitude = mantissa as f32 * f32::from_bits(0x3380_0000);
            return if sign != 0 { -magnitude } else { magnitude };
        }
        0x1f => sign | 0x7f80_0000 | (mantissa << 13),
        _ => sign | ((exponent + 112) << 23) | (mantissa << 13),
    };
    f32::from_bits(bits)
}

/// Single precision to half precision, rounded to the nearest (ties to even), as IEEE 754
/// and numpy's `astype(float16)` do: values past the largest half (65,504 plus half a step)
/// become infinity, values below half the smallest subnormal become zero, NaN stays NaN.
pub fn f32_to_f16(value: f32) -> u16 {
    let bits = value.to_bits();
    // Both are 16-bit quantities by construction (masked and shifted).
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exponent = (bits >> 23) & 0xff;
    let mantissa = bits & 0x007f_ffff;
    if exponent == 0xff {
        // Infinity, or NaN with its top payload bits kept (and always a mantissa bit set).
        let payload = if mantissa == 0 { 0 } else { 0x200 | (mantissa >> 13) as u16 };
        return sign | 0x7c00 | payload;
    }
    // The exponent re-biased for half precision (bias 15 instead of 127).
    let half_exponent = exponent as i32 - 112;
    if half_exponent >= 0x1f {
        return sign | 0x7c00;
    }
    if half_exponent <= 0 {
        // A subnormal half (or zero): the value in units of 2^-24, rounded.
        if half_exponent < -10 {
            return sign;
        }
        let significand = mantissa | 0x0080_0000;
        let shift = (14 - half_exponent) as u32;
        return sign | round_shift(significand, shift) as u16;
    }
    // A normal half. Rounding may carry into the exponent, and from the largest finite half
    // into infinity: both come out right from the addition.
    let rounded = round_shift((half_exponent as u32) << 23 | mantissa, 13);
    sign | rounded as u16
}

/// `value >> shift` rounded to the nearest, ties to even (`1 <= shift < 32`).
fn round_shift(value: u32, shift: u32) -> u32 {
    let kept = value >> shift;
    let rest = value & ((1 << shift) - 1);
    let half = 1 << (shift - 1);
    if rest > half || (rest == half && kept & 1 == 1) { kept + 1 } else { kept }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_half_survives_the_round_trip() {
        for h in 0..=u16::MAX {
            let wide = f16_to_f32(h);
            if wide.is_nan() {
                assert!(f16_to_f32(f32_to_f16(wide)).is_nan(), "{h:#06x}");
            } else {
                assert_eq!(f32_to_f16(wide), h, "{h:#06x} = {wide}");
            }
        }
    }

    #[test]
    fn rounds_to_nearest_even() {
        assert_eq!(f32_to_f16(1.0), 0x3c00);
        assert_eq!(f32_to_f16(-2.0), 0xc000);
        assert_eq!(f32_to_f16(65504.0), 0x7bff);
        // Halfway between 65504 and 65536 rounds to even: infinity.
        assert_eq!(f32_to_f16(65520.0), 0x7c00);
        assert_eq!(f32_to_f16(65519.99), 0x7bff);
        assert_eq!(f32_to_f16(1e9), 0x7c00);
        // 1 + 2^-11 is halfway between 1 and the next half: ties to even (1).
        assert_eq!(f32_to_f16(1.0 + f32::powi(2.0, -11)), 0x3c00);
        // 1 + 3 * 2^-11 is halfway between two halves: ties to the even one above.
        assert_eq!(f32_to_f16(1.0 + 3.0 * f32::powi(2.0, -11)), 0x3c02);
        // The smallest subnormal, and half of it (a tie, to even: zero), and a bit more.
        assert_eq!(f32_to_f16(f32::powi(2.0, -24)), 0x0001);
        assert_eq!(f32_to_f16(f32::powi(2.0, -25)), 0x0000);
        assert_eq!(f32_to_f16(f32::powi(2.0, -25) * 1.5), 0x0001);
        assert_eq!(f32_to_f16(-1e-30), 0x8000);
        // The largest subnormal rounds up into the smallest normal.
        assert_eq!(f32_to_f16(f32::powi(2.0, -14) - f32::powi(2.0, -26)), 0x0400);
        assert_eq!(f32_to_f16(f32::INFINITY), 0x7c00);
        assert_eq!(f32_to_f16(f32::NEG_INFINITY), 0xfc00);
        assert!(f16_to_f32(f32_to_f16(f32::NAN)).is_nan());
    }

    #[test]
    fn the_error_is_at_most_half_a_step() {
        let mut x = 1e-4f32;
        while x < 6e4 {
            let back = f16_to_f32(f32_to_f16(x));
            // A half has 11 significant bits: the relative error is at most 2^-11.
            assert!(((back - x) / x).abs() <= f32::powi(2.0, -11), "{x} -> {back}");
            x *= 1.0137;
        }
    }
}
