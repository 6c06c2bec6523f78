//! Horizontal bar charts for the terminal, with the planted count beside the found one so
//! a reader sees the pipeline recover what the generator put in.

/// One row: a label, the count the pipeline found, and the count the generator planted.
pub struct Row<'a> {
    pub label: &'a str,
    pub found: u64,
    pub planted: Option<u64>,
}

/// Renders `rows` as bars scaled to the largest count, `width` cells at most.
pub fn bars(title: &str, rows: &[Row], width: usize) -> String {
    let max = rows.iter().map(|r| r.found).max().unwrap_or(0).max(1);
    let label_w = rows.iter().map(|r| r.label.len()).max().unwrap_or(0);
    let mut s = format!(
        "  {title:<w$}  {:>w2$}  planted\n",
        "found",
        w = label_w + width + 1,
        w2 = 5
    );
    for r in rows {
        // Round up, so a count of 1 still shows a sliver.
        let cells = (r.found as usize * width).div_ceil(max as usize);
        let bar = "█".repeat(cells);
        let check = match r.planted {
            Some(p) if p == r.found => format!("{p:>7} ✓"),
            Some(p) => format!("{p:>7} ✗ differs"),
            None => String::new(),
        };
        s.push_str(&format!(
            "  {:<label_w$} {bar}{}  {:>5}{check}\n",
            r.label,
            " ".repeat(width - cells),
            r.found,
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_and_mark_mismatches() {
        let s = bars(
            "friction",
            &[
                Row {
                    label: "a",
                    found: 10,
                    planted: Some(10),
                },
                Row {
                    label: "bb",
                    found: 1,
                    planted: Some(2),
                },
                Row {
                    label: "c",
                    found: 0,
                    planted: None,
                },
            ],
            10,
        );
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[1].matches('█').count(), 10);
        assert_eq!(lines[2].matches('█').count(), 1);
        assert_eq!(lines[3].matches('█').count(), 0);
        assert!(lines[1].ends_with("10 ✓"));
        assert!(lines[2].contains("✗ differs"));
    }
}
