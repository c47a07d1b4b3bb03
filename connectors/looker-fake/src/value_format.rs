//! Renders numbers with Looker's Excel-style `value_format` strings (`$#,##0.00`, `0.0%`,
//! `$0.0,,"M"`), which is what the `rendered` text of a json_detail cell shows.

pub(crate) fn render(format: &str, value: f64) -> String {
    let spec = Spec::parse(format);
    let mut scaled = value;
    if spec.percent {
        scaled *= 100.0;
    }
    for _ in 0..spec.scale_thousands {
        scaled /= 1000.0;
    }
    let digits = format!("{:.*}", spec.decimals, scaled.abs());
    let (int_part, frac_part) = match digits.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (digits, None),
    };
    let int_part = if spec.grouping {
        group_thousands(&int_part)
    } else {
        int_part
    };
    let negative = scaled < 0.0 && digits_nonzero(&int_part, frac_part.as_deref());
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&spec.prefix);
    out.push_str(&int_part);
    if let Some(frac) = frac_part {
        out.push('.');
        out.push_str(&frac);
    }
    out.push_str(&spec.suffix);
    out
}

fn digits_nonzero(int_part: &str, frac: Option<&str>) -> bool {
    int_part
        .chars()
        .chain(frac.unwrap_or("").chars())
        .any(|c| c.is_ascii_digit() && c != '0')
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

struct Spec {
    prefix: String,
    suffix: String,
    decimals: usize,
    grouping: bool,
    scale_thousands: usize,
    percent: bool,
}

impl Spec {
    fn parse(format: &str) -> Spec {
        let mut spec = Spec {
            prefix: String::new(),
            suffix: String::new(),
            decimals: 0,
            grouping: false,
            scale_thousands: 0,
            percent: false,
        };
        #[derive(PartialEq)]
        enum Part {
            Prefix,
            Number,
            Suffix,
        }
        let mut part = Part::Prefix;
        let mut after_point = false;
        let mut pending_commas = 0;
        let mut in_quotes = false;
        for c in format.chars() {
            if c == '"' {
                in_quotes = !in_quotes;
                if part == Part::Number {
                    part = Part::Suffix;
                }
                continue;
            }
            if in_quotes {
                match part {
                    Part::Prefix => spec.prefix.push(c),
                    _ => spec.suffix.push(c),
                }
                continue;
            }
            match (c, &part) {
                ('0' | '#', Part::Prefix | Part::Number) => {
                    part = Part::Number;
                    if pending_commas > 0 {
                        spec.grouping = true;
                        pending_commas = 0;
                    }
                    if after_point {
                        spec.decimals += 1;
                    }
                }
                (',', Part::Number) => pending_commas += 1,
                ('.', Part::Number) => after_point = true,
                ('%', _) => {
                    spec.percent = true;
                    spec.suffix.push('%');
                    part = Part::Suffix;
                }
                (_, Part::Prefix) => spec.prefix.push(c),
                (_, _) => {
                    part = Part::Suffix;
                    spec.suffix.push(c);
                }
            }
        }
        // Commas after the last digit placeholder divide by 1000 each (Excel's scaling rule).
        spec.scale_thousands = pending_commas;
        spec
    }
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn renders_common_looker_formats() {
        assert_eq!(render("$#,##0.00", 116.0310256410256), "$116.03");
        assert_eq!(render("$#,##0", 1234567.4), "$1,234,567");
        assert_eq!(render("0.0%", 0.253), "25.3%");
        assert_eq!(render("0%", 0.987), "99%");
        assert_eq!(render("#,##0", -1234.0), "-1,234");
        assert_eq!(render("$#,##0", -5.0), "-$5");
        assert_eq!(render("$0.0,,\"M\"", 12_340_000.0), "$12.3M");
        assert_eq!(render("0.00", 12.3456), "12.35");
    }
}
