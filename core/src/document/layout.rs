//! Line breaking shared by the renderers: a thermal printer measures in font columns, the PDF
//! in millimetres of real glyph advances; both break at the same places.
//!
//! A line never splits a number or code (`0533-3156789`, `GB 30871-2022`, `6.1.1.2`), a
//! document number (`（淄）应急责改〔2026〕12号`, [`document_numbers`]), a 《title》 that fits on
//! one line, and never starts with closing punctuation or ends with opening punctuation.

const NO_BREAK_BEFORE: &str = "，。、；：！？）》」』〕】’”…%,.;:!?)]";
const NO_BREAK_AFTER: &str = "（《「『〔【‘“([";

/// How far before its year bracket a document number's place and type reach
/// (`（淄）应急责改〔`): a longer run is running text, and only `〔2026〕12号` is kept whole.
const NUMBER_PREFIX_CHARS: usize = 12;

/// The document numbers in `chars`, as ranges of character indices: `〔year〕serial号`
/// (or `[year]`, `(serial)`), with the place and type before it when an opening bracket
/// starts them within a few characters (`（淄）应急责改〔2026〕12号`).
pub fn document_numbers(chars: &[char]) -> Vec<std::ops::Range<usize>> {
    let digits_before = |end: usize| {
        chars[..end]
            .iter()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let mut found = Vec::new();
    for (k, &c) in chars.iter().enumerate() {
        if c != '号' {
            continue;
        }
        let mut j = k;
        let bracketed = j > 0 && matches!(chars[j - 1], ')' | '）');
        if bracketed {
            j -= 1;
        }
        let serial = digits_before(j);
        if serial == 0 {
            continue;
        }
        j -= serial;
        if bracketed {
            if j == 0 || !matches!(chars[j - 1], '(' | '（') {
                continue;
            }
            j -= 1;
        }
        if j == 0 || !matches!(chars[j - 1], '〕' | ']') {
            continue;
        }
        j -= 1;
        if digits_before(j) != 4 {
            continue;
        }
        j -= 4;
        if j == 0 || !matches!(chars[j - 1], '〔' | '[') {
            continue;
        }
        j -= 1;
        let mut start = j;
        for back in 1..=NUMBER_PREFIX_CHARS.min(j) {
            let c = chars[j - back];
            if matches!(c, '（' | '(') {
                start = j - back;
                break;
            }
            if c.is_whitespace() || "，。；：、《》号〕]".contains(c) {
                break;
            }
        }
        found.push(start..k + 1);
    }
    found
}

/// Splits `text` into lines no wider than `max_width`, measuring each character with
/// `width_of`.
pub fn wrap_by(text: &str, max_width: f32, width_of: impl Fn(char) -> f32) -> Vec<String> {
    let measure = |s: &str| s.chars().map(&width_of).sum::<f32>();
    let fits = |width: f32| width <= max_width + 1e-3;
    let chars: Vec<char> = text.chars().collect();
    let numbers = document_numbers(&chars);
    let mut units: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut unit = String::new();
        if let Some(number) = numbers.iter().find(|n| n.start == i) {
            let whole: String = chars[number.clone()].iter().collect();
            if fits(measure(&whole)) {
                unit = whole;
                i = number.end;
            }
        }
        if unit.is_empty()
            && c == '《'
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

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers_in(text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        document_numbers(&chars)
            .into_iter()
            .map(|range| chars[range].iter().collect())
            .collect()
    }

    #[test]
    fn document_numbers_are_found_with_their_place_and_type() {
        assert_eq!(
            numbers_in(
                "本机关于2026年11月20日作出了责令限期整改的决定[（淄）应急责改〔2026〕21号]，经复查"
            ),
            ["（淄）应急责改〔2026〕21号"]
        );
        assert_eq!(
            numbers_in("(淄)应急字检记[2019](7)号与安监总管三〔2017〕121号 第四项"),
            ["(淄)应急字检记[2019](7)号", "〔2017〕121号"]
        );
        assert_eq!(numbers_in("第12号令，2026年"), Vec::<String>::new());
    }

    #[test]
    fn a_document_number_is_never_broken_across_lines_at_any_width() {
        let text = "本机关于2026年11月20日作出了责令限期整改的决定[（淄）应急责改〔2026〕21号]，经对你单位整改情况进行复查，提出如下意见：";
        let number = "（淄）应急责改〔2026〕21号";
        // From the 58 mm printer's 32 columns up; narrower, the number alone is wider than a line.
        for columns in 32..=60 {
            let lines = wrap_by(
                text,
                columns as f32,
                |c| if c.is_ascii() { 1.0 } else { 2.0 },
            );
            assert!(
                lines.iter().any(|l| l.contains(number)),
                "{columns}: {lines:?}"
            );
            assert_eq!(lines.concat(), text);
        }
    }
}
