//! How numbers are written for people: one spelling of a rate for the terminal summary, the
//! improvement log, tickets and the HTML report, so the same rate never reads two ways.

/// A rate in 0..=1 as a percentage with one decimal: `0.125` → `12.5%`.
pub fn pct(r: f64) -> String {
    format!("{:.1}%", r * 100.0)
}

/// [`pct`], or `n/a` for a rate that has no denominator.
pub fn pct_or_na(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".to_string(), pct)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_one_way() {
        assert_eq!(pct(0.125), "12.5%");
        assert_eq!(pct(1.0), "100.0%");
        assert_eq!(pct_or_na(Some(0.0)), "0.0%");
        assert_eq!(pct_or_na(None), "n/a");
    }
}
