//! Numbers read exactly: a decimal kept as text, never rounded through a float
//! until the caller asks for one.

use std::fmt;

/// A finite decimal number, exactly as read (normalised: no exponent, no
/// needless zeros).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExactNumber {
    negative: bool,
    /// All significant digits, without leading zeros ("0" for zero).
    digits: String,
    /// How many of `digits` are after the decimal point (may exceed its length).
    scale: u32,
}

/// Digits plus scale beyond which the number is refused as absurd.
const MAX_DIGITS: usize = 400;

impl ExactNumber {
    /// Parses a JSON number or a numeric string: optional sign, digits with an
    /// optional fraction, optional exponent. Surrounding spaces are ignored;
    /// anything else (thousands separators, units, `NaN`) is not a number.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], rest[at + 1..].parse::<i32>().ok()?),
            None => (rest, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        if !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        if whole.len() + fraction.len() > MAX_DIGITS
            || exponent.unsigned_abs() as usize > MAX_DIGITS
        {
            return None;
        }
        let mut digits = format!("{whole}{fraction}");
        let mut scale = fraction.len() as i64 - i64::from(exponent);
        if scale < 0 {
            digits.push_str(&"0".repeat(scale.unsigned_abs() as usize));
            scale = 0;
        }
        Some(ExactNumber::normalised(negative, digits, scale as u32))
    }

    fn normalised(negative: bool, digits: String, mut scale: u32) -> Self {
        let mut digits = digits.trim_start_matches('0').to_owned();
        while scale > 0 && digits.ends_with('0') {
            digits.pop();
            scale -= 1;
        }
        if digits.is_empty() {
            return ExactNumber {
                negative: false,
                digits: "0".to_owned(),
                scale: 0,
            };
        }
        ExactNumber {
            negative,
            digits,
            scale,
        }
    }

    /// The number × 100, exactly (a fraction read as a percentage).
    pub fn times_100(&self) -> Self {
        if self.scale >= 2 {
            return ExactNumber::normalised(self.negative, self.digits.clone(), self.scale - 2);
        }
        let zeros = "0".repeat(2 - self.scale as usize);
        ExactNumber::normalised(self.negative, format!("{}{zeros}", self.digits), 0)
    }

    pub fn to_f64(&self) -> f64 {
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    pub fn is_zero(&self) -> bool {
        self.digits == "0"
    }
}

impl fmt::Display for ExactNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        let scale = self.scale as usize;
        if scale == 0 {
            return f.write_str(&self.digits);
        }
        if self.digits.len() > scale {
            let (whole, fraction) = self.digits.split_at(self.digits.len() - scale);
            write!(f, "{whole}.{fraction}")
        } else {
            write!(
                f,
                "0.{}{}",
                "0".repeat(scale - self.digits.len()),
                self.digits
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(text: &str) -> Option<String> {
        ExactNumber::parse(text).map(|n| n.to_string())
    }

    #[test]
    fn parses_exactly_and_normalises() {
        for (input, expected) in [
            ("42", "42"),
            ("-0.2530", "-0.253"),
            (" 007.50 ", "7.5"),
            ("1e3", "1000"),
            ("2.5E-3", "0.0025"),
            ("-0", "0"),
            (".5", "0.5"),
            ("5.", "5"),
            ("12345678901234567890.125", "12345678901234567890.125"),
            ("+3", "3"),
        ] {
            assert_eq!(show(input).as_deref(), Some(expected), "{input}");
        }
        for input in [
            "", "-", ".", "1,234", "12 kg", "NaN", "inf", "0x10", "1e", "--1", "1e99999",
        ] {
            assert_eq!(show(input), None, "{input}");
        }
    }

    #[test]
    fn percentages_shift_the_point_exactly() {
        for (input, expected) in [
            ("0.253", "25.3"),
            ("0.985", "98.5"),
            ("1", "100"),
            ("0.1", "10"),
            ("-0.0001", "-0.01"),
            ("0", "0"),
            ("0.123456789012345678", "12.3456789012345678"),
        ] {
            let value = ExactNumber::parse(input).unwrap().times_100();
            assert_eq!(value.to_string(), expected, "{input}");
        }
        assert_eq!(ExactNumber::parse("0.253").unwrap().to_f64(), 0.253);
    }
}
