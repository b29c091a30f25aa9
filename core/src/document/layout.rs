//! Line breaking shared by the renderers: a thermal printer measures in font columns, the PDF
//! in millimetres of real glyph advances; both break at the same places.
//!
//! A line never splits a number or code (`0533-3156789`, `GB 30871-2022`, `6.1.1.2`), a
//! 《title》 that fits on one line, and never starts with closing punctuation or ends with
//! opening punctuation.

const NO_BREAK_BEFORE: &str = "，。、；：！？）》」』〕】’”…%,.;:!?)]";
const NO_BREAK_AFTER: &str = "（《「『〔【‘“([";

/// Splits `text` into lines no wider than `max_width`, measuring each character with
/// `width_of`.
pub fn wrap_by(text: &str, max_width: f32, width_of: impl Fn(char) -> f32) -> Vec<String> {
    let measure = |s: &str| s.chars().map(&width_of).sum::<f32>();
    let fits = |width: f32| width <= max_width + 1e-3;
    let chars: Vec<char> = text.chars().collect();
    let mut units: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut unit = String::new();
        if c == '《'
            && let Some(close) = chars[i..].iter().position(|&c| c == '》')
        {
            let title: String = chars[i..=i + close].iter().collect();
            if fits(measure(&title)) {
                unit = title;
                i += close + 1;
            }
        }
        if unit.is_empty() {
            if c.is_ascii_alphanumeric() {
                let start = i;
                while i < chars.len() {
                    let c = chars[i];
                    let inner = matches!(c, '.' | '-' | '/' | ':' | '_')
                        && chars.get(i + 1).is_some_and(char::is_ascii_alphanumeric);
                    // "GB 30871" and "GB/T 37243" stay together: a code's prefix and number.
                    let code_space = c == ' '
                        && i > start
                        && chars[start..i]
                            .iter()
                            .all(|c| c.is_ascii_uppercase() || *c == '/')
                        && chars.get(i + 1).is_some_and(char::is_ascii_digit);
                    if c.is_ascii_alphanumeric() || inner || code_space {
                        i += 1;
                    } else {
                        break;
                    }
                }
                unit = chars[start..i].iter().collect();
            } else {
                unit.push(c);
                i += 1;
            }
        }
        // Glue closing punctuation to what precedes, opening punctuation to what follows.
        let glue_to_previous = unit
            .chars()
            .next()
            .is_some_and(|first| NO_BREAK_BEFORE.contains(first));
        let previous_opens = units
            .last()
            .and_then(|u| u.chars().last())
            .is_some_and(|last| NO_BREAK_AFTER.contains(last));
        match units.last_mut() {
            Some(previous)
                if (glue_to_previous || previous_opens)
                    && fits(measure(previous) + measure(&unit)) =>
            {
                previous.push_str(&unit);
            }
            _ => units.push(unit),
        }
    }

    let mut lines = Vec::new();
    let mut line = String::new();
    let mut line_width = 0.0;
    for unit in units {
        let unit_width = measure(&unit);
        if fits(line_width + unit_width) {
            line.push_str(&unit);
            line_width += unit_width;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            line_width = 0.0;
        }
        if unit == " " {
            continue;
        }
        if fits(unit_width) {
            line = unit;
            line_width = unit_width;
        } else {
            // Longer than a whole line (a long hash, say): split by width.
            for c in unit.chars() {
                if !line.is_empty() && !fits(line_width + width_of(c)) {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0.0;
                }
                line.push(c);
                line_width += width_of(c);
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}
