//! Charts as inline SVG drawn on the server, with no JavaScript (docs/research/review-pages.md
//! §3): bar, stacked bar, pie (a donut) and line.
//!
//! Every chart is `<svg role="img" aria-label=… data-chart=… viewBox=…>`, and every mark
//! carries `data-key` (its category) and `data-value` (the number it stands for, as the table
//! and the JSON API give it) and a `<title>` for hover text, so a browser test can check the
//! drawing against the table. Colours and fonts are presentation attributes plus `series-N`
//! classes the served stylesheet may override; there is no `style` attribute, so the page
//! works under `Content-Security-Policy: default-src 'self'`. All text goes through
//! [`escape`].
//!
//! Values that are not numbers:
//! * NaN and ±∞ mean "no value", such as a rate over zero cases. A bar keeps its place with
//!   height 0 and `data-value=""`; a line breaks there (one `polyline` per unbroken run) and
//!   has no point; a pie leaves it out.
//! * Negative values extend the axis below zero in bar and line charts. The parts of a stacked
//!   bar or a pie cannot be negative: such a part is drawn with no size (stacked bar) or left
//!   out (pie), while its `data-value` keeps the real number.
//! * A chart with no categories, or no finite value at all (for a pie: nothing above zero),
//!   is an empty frame saying 无数据.

use std::fmt::Write;

use super::{escape, number};

/// The system fonts of Windows, macOS and Linux clients; no web font is served for charts.
const FONT_FAMILY: &str =
    "'Microsoft YaHei','PingFang SC','Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif";
/// Tableau 10: distinguishable for most colour-blind readers and in greyscale print.
const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];
/// The colours of states, the same on every chart: what is late or expired is red, what is
/// close to it orange, what is settled green. The legend names each state, so the colour is
/// never the only sign.
pub const STATE_LATE: &str = "#d62728";
pub const STATE_MISSING: &str = "#8c1c13";
pub const STATE_SOON: &str = "#f28e2b";
pub const STATE_OPEN: &str = "#4e79a7";
pub const STATE_DONE: &str = "#59a14f";
const TEXT_COLOUR: &str = "#333";
const MUTED_COLOUR: &str = "#888";
const GRID_COLOUR: &str = "#e5e5e5";
const FONT_SIZE: f64 = 12.0;
/// Rough advance of one narrow character at [`FONT_SIZE`]; CJK characters count twice.
const CHAR_WIDTH: f64 = 6.5;
/// Category labels longer than this (in narrow characters) are shortened with "…"; the mark's
/// title keeps the whole name.
const MAX_LABEL: usize = 16;
const LEGEND_ROW: f64 = 18.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The chart's accessible name (`aria-label`), such as "2024 年各乡镇隐患数".
    pub label: String,
    /// The size of the viewBox; the page's stylesheet decides the size on screen.
    pub width: f64,
    pub height: f64,
    /// The values are fractions shown as percentages: 0.875 reads 87.5%.
    pub percent: bool,
    /// Colours for the series (or slices) in order, in place of the palette's: a state's own
    /// colour. Series beyond them take the palette's.
    pub colours: Vec<&'static str>,
}

impl Options {
    pub fn new(label: impl Into<String>) -> Self {
        Options {
            label: label.into(),
            width: 640.0,
            height: 320.0,
            percent: false,
            colours: Vec::new(),
        }
    }

    /// A donut's usual size: the ring and its legend side by side, small enough that a
    /// phone shows it whole with letters of at least 10 px (see review.css).
    pub fn donut(label: impl Into<String>) -> Self {
        Options::new(label).size(440.0, 220.0)
    }

    pub fn percent(mut self) -> Self {
        self.percent = true;
        self
    }

    pub fn size(mut self, width: f64, height: f64) -> Self {
        self.width = width;
        self.height = height;
        self
    }

    pub fn colours(mut self, colours: &[&'static str]) -> Self {
        self.colours = colours.to_vec();
        self
    }

    fn colour(&self, series: usize) -> &'static str {
        self.colours
            .get(series)
            .copied()
            .unwrap_or(PALETTE[series % PALETTE.len()])
    }
}

/// One named series of a stacked bar or line chart: a value per category, in the order of
/// the categories (missing values count as "no value").
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

impl Series {
    pub fn new(name: impl Into<String>, values: Vec<f64>) -> Self {
        Series {
            name: name.into(),
            values,
        }
    }

    fn value(&self, index: usize) -> f64 {
        self.values.get(index).copied().unwrap_or(f64::NAN)
    }
}

/// One `<rect class="bar">` per category, in order, zero and undefined values included.
pub fn bar(series: &[(String, f64)], options: &Options) -> String {
    let values: Vec<f64> = series.iter().map(|(_, value)| *value).collect();
    let Some(axis) = Axis::for_values(&values, options.percent, true) else {
        return empty("bar", options);
    };
    let categories: Vec<&str> = series.iter().map(|(key, _)| key.as_str()).collect();
    let frame = Frame::new(&categories, axis, 0, options);
    let mut svg = open("bar", options);
    frame.draw_axes(&mut svg, &categories);
    let zero = frame.y(0.0);
    for (index, (key, value)) in series.iter().enumerate() {
        let (x, width) = frame.band(index, 0.7);
        let (y, height) = if value.is_finite() {
            let end = frame.y(*value);
            (zero.min(end), (zero - end).abs())
        } else {
            (zero, 0.0)
        };
        let _ = write!(
            svg,
            "<rect class=\"bar\" data-key=\"{}\" data-value=\"{}\" x=\"{}\" y=\"{}\" \
             width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}</title></rect>",
            escape(key),
            data_value(*value),
            px(x),
            px(y),
            px(width),
            px(height),
            PALETTE[0],
            escape(&format!("{key}：{}", shown(*value, options.percent)))
        );
        // Values over the bars while there is room to read them.
        if frame.slot >= 28.0 && value.is_finite() {
            let above = if *value < 0.0 {
                y + height + FONT_SIZE
            } else {
                y - 4.0
            };
            let _ = write!(
                svg,
                "<text class=\"value\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{TEXT_COLOUR}\">{}</text>",
                px(x + width / 2.0),
                px(above),
                escape(&shown(*value, options.percent))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Bars stacked per category, one `<rect class="bar series-N">` per series and category
/// (`data-chart="stacked-bar"`, `data-series` naming the series), with a legend.
pub fn stacked_bar(categories: &[String], series: &[Series], options: &Options) -> String {
    let totals: Vec<f64> = (0..categories.len())
        .map(|index| series.iter().map(|s| part(s.value(index))).sum())
        .collect();
    let any_value = series
        .iter()
        .any(|s| (0..categories.len()).any(|index| s.value(index).is_finite()));
    let axis = Axis::for_values(&totals, options.percent, true);
    let (Some(axis), true) = (axis, any_value) else {
        return empty("stacked-bar", options);
    };
    let labels: Vec<&str> = categories.iter().map(String::as_str).collect();
    let frame = Frame::new(&labels, axis, series.len(), options);
    let mut svg = open("stacked-bar", options);
    frame.draw_legend(&mut svg, series.iter().map(|s| s.name.as_str()), options);
    frame.draw_axes(&mut svg, &labels);
    for (index, category) in categories.iter().enumerate() {
        let (x, width) = frame.band(index, 0.7);
        let mut base = 0.0;
        for (number, s) in series.iter().enumerate() {
            let value = s.value(index);
            let top = base + part(value);
            let (y, height) = (frame.y(top), frame.y(base) - frame.y(top));
            base = top;
            let _ = write!(
                svg,
                "<rect class=\"bar series-{number}\" data-key=\"{}\" data-series=\"{}\" \
                 data-value=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">\
                 <title>{}</title></rect>",
                escape(category),
                escape(&s.name),
                data_value(value),
                px(x),
                px(y),
                px(width),
                px(height),
                options.colour(number),
                escape(&format!(
                    "{category}，{}：{}",
                    s.name,
                    shown(value, options.percent)
                ))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A donut: one `<path class="slice">` per value above zero, clockwise from twelve o'clock,
/// or a single `<circle class="slice">` when one value is the whole; a legend with each
/// drawn slice's value and share, as many as fit.
pub fn pie(slices: &[(String, f64)], options: &Options) -> String {
    // Each slice keeps the number of its place among all the values, so that its colour and
    // `series-N` class do not shift when another value is zero.
    let drawn: Vec<(usize, &String, f64)> = slices
        .iter()
        .enumerate()
        .filter(|(_, (_, value))| part(*value) > 0.0)
        .map(|(number, (key, value))| (number, key, *value))
        .collect();
    let total: f64 = drawn.iter().map(|(_, _, value)| value).sum();
    if drawn.is_empty() || !total.is_finite() {
        return empty("pie", options);
    }
    let ring = Ring::new(options);
    let mut svg = open("pie", options);
    let mut before = 0.0;
    for &(number, key, value) in &drawn {
        let share = value / total;
        let title = escape(&format!(
            "{key}：{}（{}）",
            shown(value, options.percent),
            percent_text(share)
        ));
        if drawn.len() == 1 {
            // An arc whose ends meet draws nothing, so the whole is a stroked circle.
            let _ = write!(
                svg,
                "<circle class=\"slice series-{}\" data-key=\"{}\" data-value=\"{}\" \
                 cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\">\
                 <title>{title}</title></circle>",
                number % PALETTE.len(),
                escape(key),
                data_value(value),
                px(ring.cx),
                px(ring.cy),
                px((ring.outer + ring.inner) / 2.0),
                options.colour(number),
                px(ring.outer - ring.inner)
            );
        } else {
            // Boundaries from running sums, so the last slice closes exactly at the start.
            let after = before + value;
            let _ = write!(
                svg,
                "<path class=\"slice series-{}\" data-key=\"{}\" data-value=\"{}\" d=\"{}\" \
                 fill=\"{}\" stroke=\"#fff\" stroke-width=\"1\"><title>{title}</title></path>",
                number % PALETTE.len(),
                escape(key),
                data_value(value),
                ring.slice(before / total, after / total),
                options.colour(number)
            );
            before = after;
        }
    }
    let legend_x = ring.cx + ring.outer + 24.0;
    let rows = ((options.height - 16.0) / LEGEND_ROW).floor().max(0.0) as usize;
    let top = (options.height - LEGEND_ROW * rows.min(drawn.len()) as f64) / 2.0;
    for (row, &(number, key, value)) in drawn.iter().enumerate().take(rows) {
        let y = top + LEGEND_ROW * row as f64;
        let _ = write!(
            svg,
            "<rect class=\"swatch series-{}\" x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text class=\"legend\" x=\"{}\" y=\"{}\" fill=\"{TEXT_COLOUR}\">{}</text>",
            number % PALETTE.len(),
            px(legend_x),
            px(y + 3.0),
            options.colour(number),
            px(legend_x + 16.0),
            px(y + 12.0),
            escape(&format!(
                "{} {}（{}）",
                shorten(key),
                shown(value, options.percent),
                percent_text(value / total)
            ))
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One series over categories (months, say): see [`lines`].
pub fn line(points: &[(String, f64)], options: &Options) -> String {
    let categories: Vec<String> = points.iter().map(|(key, _)| key.clone()).collect();
    let values = points.iter().map(|(_, value)| *value).collect();
    lines(&categories, &[Series::new("", values)], options)
}

/// One `<polyline class="series">` per series (more where a series has gaps) and a
/// `<circle class="point">` per defined value; a legend when there is more than one series.
pub fn lines(categories: &[String], series: &[Series], options: &Options) -> String {
    let values: Vec<f64> = series
        .iter()
        .flat_map(|s| (0..categories.len()).map(|index| s.value(index)))
        .collect();
    let axis = Axis::for_values(&values, options.percent, false);
    let (Some(axis), false) = (axis, categories.is_empty()) else {
        return empty("line", options);
    };
    let labels: Vec<&str> = categories.iter().map(String::as_str).collect();
    let legend = if series.len() > 1 { series.len() } else { 0 };
    let frame = Frame::new(&labels, axis, legend, options);
    let mut svg = open("line", options);
    if legend > 0 {
        frame.draw_legend(&mut svg, series.iter().map(|s| s.name.as_str()), options);
    }
    frame.draw_axes(&mut svg, &labels);
    for (number, s) in series.iter().enumerate() {
        let points: Vec<Option<(f64, f64)>> = (0..categories.len())
            .map(|index| {
                let value = s.value(index);
                value
                    .is_finite()
                    .then(|| (frame.centre(index), frame.y(value)))
            })
            .collect();
        for run in points.split(Option::is_none).filter(|run| !run.is_empty()) {
            let coordinates: Vec<String> = run
                .iter()
                .flatten()
                .map(|(x, y)| format!("{},{}", px(*x), px(*y)))
                .collect();
            let _ = write!(
                svg,
                "<polyline class=\"series series-{}\" data-series=\"{}\" points=\"{}\" \
                 fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
                number % PALETTE.len(),
                escape(&s.name),
                coordinates.join(" "),
                options.colour(number)
            );
        }
        for (index, point) in points.iter().enumerate() {
            let Some((x, y)) = point else { continue };
            let key = &categories[index];
            let value = s.value(index);
            let title = if s.name.is_empty() {
                format!("{key}：{}", shown(value, options.percent))
            } else {
                format!("{key}，{}：{}", s.name, shown(value, options.percent))
            };
            let _ = write!(
                svg,
                "<circle class=\"point series-{}\" data-key=\"{}\" data-series=\"{}\" \
                 data-value=\"{}\" cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\"><title>{}</title></circle>",
                number % PALETTE.len(),
                escape(key),
                escape(&s.name),
                data_value(value),
                px(*x),
                px(*y),
                options.colour(number),
                escape(&title)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn open(kind: &str, options: &Options) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" \
         aria-label=\"{}\" data-chart=\"{kind}\" viewBox=\"0 0 {} {}\" \
         font-family=\"{FONT_FAMILY}\" font-size=\"{FONT_SIZE}\">",
        escape(&options.label),
        px(options.width),
        px(options.height)
    )
}

fn empty(kind: &str, options: &Options) -> String {
    let mut svg = open(kind, options);
    let _ = write!(
        svg,
        "<text class=\"empty\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" \
         dominant-baseline=\"middle\" fill=\"{MUTED_COLOUR}\">无数据</text></svg>",
        px(options.width / 2.0),
        px(options.height / 2.0)
    );
    svg
}

/// A part of a whole: undefined and negative parts take no room.
fn part(value: f64) -> f64 {
    if value.is_finite() && value > 0.0 {
        value
    } else {
        0.0
    }
}

/// Coordinates to a hundredth of a unit: finer than any screen, shorter than `f64` text.
fn px(value: f64) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// The exact value, as the JSON API writes it; empty for "no value".
fn data_value(value: f64) -> String {
    if value.is_finite() {
        number(value)
    } else {
        String::new()
    }
}

/// A value as people read it: rates in percent to a tenth, other numbers to two places.
fn shown(value: f64, percent: bool) -> String {
    if !value.is_finite() {
        "无数据".to_string()
    } else if percent {
        percent_text(value)
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        number(value)
    } else {
        px(value)
    }
}

fn percent_text(fraction: f64) -> String {
    format!("{}%", fixed(fraction * 100.0, 1))
}

/// `decimals` places, without a minus sign on a value that prints as zero.
fn fixed(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        text.trim_start_matches('-').to_string()
    } else {
        text
    }
}

fn text_width(text: &str) -> f64 {
    text.chars()
        .map(|c| if c.is_ascii() { 1.0 } else { 2.0 })
        .sum::<f64>()
        * CHAR_WIDTH
}

fn shorten(label: &str) -> String {
    if text_width(label) <= MAX_LABEL as f64 * CHAR_WIDTH {
        return label.to_string();
    }
    let mut width = 0.0;
    let mut short = String::new();
    for c in label.chars() {
        width += text_width(c.encode_utf8(&mut [0; 4]));
        if width > (MAX_LABEL - 2) as f64 * CHAR_WIDTH {
            break;
        }
        short.push(c);
    }
    short + "…"
}

/// A value axis with "nice" ticks: steps of 1, 2 or 5 × 10ⁿ, from a multiple of the step at
/// or below the smallest value (and zero) to one at or above the largest.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Axis {
    min: f64,
    max: f64,
    step: f64,
    percent: bool,
}

impl Axis {
    /// `None` when no value is finite. Counts (every value whole, not a rate) never get a
    /// step below 1, so an axis of small counts does not read 0.2 cases.
    fn for_values(values: &[f64], percent: bool, whole_steps: bool) -> Option<Axis> {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if finite.is_empty() {
            return None;
        }
        let low = finite.iter().copied().fold(0.0, f64::min);
        let mut high = finite.iter().copied().fold(0.0, f64::max);
        if low == high {
            high = 1.0;
        }
        let whole = whole_steps && !percent && finite.iter().all(|v| v.fract() == 0.0);
        let raw = (high - low) / 5.0;
        let magnitude = 10_f64.powf(raw.log10().floor());
        let nice = match raw / magnitude {
            r if r <= 1.0 => 1.0,
            r if r <= 2.0 => 2.0,
            r if r <= 5.0 => 5.0,
            _ => 10.0,
        };
        let mut step = nice * magnitude;
        if whole && step < 1.0 {
            step = 1.0;
        }
        // The tolerance keeps 0.03 / 0.01 = 3.0000000000000004 from adding an empty step.
        let min = (low / step + 1e-9).floor() * step;
        let max = (high / step - 1e-9).ceil() * step;
        // Ranges beyond f64 (±1e308 together) would give an axis of infinities.
        [min, max, step]
            .iter()
            .all(|v| v.is_finite())
            .then_some(Axis {
                min,
                max,
                step,
                percent,
            })
            .filter(|axis| axis.max > axis.min)
    }

    fn ticks(&self) -> impl Iterator<Item = f64> + '_ {
        let count = ((self.max - self.min) / self.step).round() as usize;
        (0..=count).map(move |index| self.min + self.step * index as f64)
    }

    fn label(&self, value: f64) -> String {
        let (value, step) = if self.percent {
            (value * 100.0, self.step * 100.0)
        } else {
            (value, self.step)
        };
        let decimals = (-(step.log10() + 1e-9).floor()).max(0.0) as usize;
        let text = fixed(value, decimals);
        if self.percent { text + "%" } else { text }
    }
}

/// The plot area of a category chart and its value axis.
#[derive(Debug)]
struct Frame {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    /// Width of one category's band.
    slot: f64,
    rotate_labels: bool,
    /// Show every n-th category label when there is no room for all.
    label_every: usize,
    axis: Axis,
    legend_rows: usize,
}

impl Frame {
    fn new(categories: &[&str], axis: Axis, legend_items: usize, options: &Options) -> Frame {
        let widest_tick = axis
            .ticks()
            .map(|tick| text_width(&axis.label(tick)))
            .fold(0.0, f64::max);
        let right = 16.0;
        let count = categories.len().max(1) as f64;
        let widest_label = categories
            .iter()
            .map(|label| text_width(&shorten(label)))
            .fold(0.0, f64::max);
        let mut left = widest_tick + 14.0;
        let mut slot = (options.width - left - right).max(1.0) / count;
        let rotate_labels = widest_label > slot - 2.0;
        if rotate_labels {
            // The first turned label reaches left of its band by its width along the diagonal.
            let reach = widest_label * std::f64::consts::FRAC_1_SQRT_2 - slot / 2.0 + 4.0;
            left = left.max(reach.min(options.width / 3.0));
            slot = (options.width - left - right).max(1.0) / count;
        }
        let width = slot * count;
        // Turned labels sit a band's width apart along the diagonal, so they need more of it.
        let room = if rotate_labels {
            (FONT_SIZE + 2.0) * std::f64::consts::SQRT_2
        } else {
            FONT_SIZE + 2.0
        };
        let label_every = if room > slot {
            (room / slot).ceil() as usize
        } else {
            1
        };
        let bottom = if rotate_labels {
            widest_label * std::f64::consts::FRAC_1_SQRT_2 + 20.0
        } else {
            24.0
        };
        // Legend rows, wrapping like text: a swatch, the name and a gap per item.
        let legend_rows = if legend_items > 0 {
            1 + (legend_items as f64 * 90.0 / options.width.max(90.0)) as usize
        } else {
            0
        };
        let top = 12.0 + LEGEND_ROW * legend_rows as f64;
        let height = (options.height - top - bottom).max(1.0);
        Frame {
            left,
            top,
            width,
            height,
            slot,
            rotate_labels,
            label_every,
            axis,
            legend_rows,
        }
    }

    fn y(&self, value: f64) -> f64 {
        self.top + self.height * (self.axis.max - value) / (self.axis.max - self.axis.min)
    }

    fn centre(&self, index: usize) -> f64 {
        self.left + self.slot * (index as f64 + 0.5)
    }

    /// The x and width of a bar filling `fill` of its band, at most 64 units wide.
    fn band(&self, index: usize, fill: f64) -> (f64, f64) {
        let width = (self.slot * fill).min(64.0);
        (self.centre(index) - width / 2.0, width)
    }

    fn draw_axes(&self, svg: &mut String, categories: &[&str]) {
        let right = self.left + self.width;
        for tick in self.axis.ticks() {
            let y = self.y(tick);
            let _ = write!(
                svg,
                "<line class=\"grid\" x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{GRID_COLOUR}\"/>\
                 <text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{MUTED_COLOUR}\">{}</text>",
                px(self.left),
                px(right),
                px(self.left - 6.0),
                px(y + 4.0),
                escape(&self.axis.label(tick)),
                y = px(y)
            );
        }
        let zero = px(self.y(0.0));
        let _ = write!(
            svg,
            "<line class=\"axis\" x1=\"{}\" y1=\"{zero}\" x2=\"{}\" y2=\"{zero}\" stroke=\"{MUTED_COLOUR}\"/>",
            px(self.left),
            px(right)
        );
        let baseline = self.top + self.height + 16.0;
        for (index, label) in categories.iter().enumerate() {
            if index % self.label_every != 0 {
                continue;
            }
            let x = px(self.centre(index));
            let text = escape(&shorten(label));
            if self.rotate_labels {
                let y = px(self.top + self.height + 12.0);
                let _ = write!(
                    svg,
                    "<text class=\"category\" x=\"{x}\" y=\"{y}\" text-anchor=\"end\" \
                     transform=\"rotate(-45 {x} {y})\" fill=\"{TEXT_COLOUR}\">{text}</text>"
                );
            } else {
                let _ = write!(
                    svg,
                    "<text class=\"category\" x=\"{x}\" y=\"{}\" text-anchor=\"middle\" \
                     fill=\"{TEXT_COLOUR}\">{text}</text>",
                    px(baseline)
                );
            }
        }
    }

    fn draw_legend<'a>(
        &self,
        svg: &mut String,
        names: impl Iterator<Item = &'a str>,
        options: &Options,
    ) {
        let (mut x, mut row) = (self.left, 0);
        for (number, name) in names.enumerate() {
            let text = shorten(name);
            let item = 16.0 + text_width(&text) + 14.0;
            if x + item > options.width && x > self.left {
                x = self.left;
                row += 1;
            }
            if row >= self.legend_rows {
                break;
            }
            let y = 8.0 + LEGEND_ROW * row as f64;
            let _ = write!(
                svg,
                "<rect class=\"swatch series-{}\" x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>\
                 <text class=\"legend\" x=\"{}\" y=\"{}\" fill=\"{TEXT_COLOUR}\">{}</text>",
                number % PALETTE.len(),
                px(x),
                px(y),
                options.colour(number),
                px(x + 14.0),
                px(y + 9.0),
                escape(&text)
            );
            x += item;
        }
    }
}

/// Where the donut sits: on the left of the viewBox, the legend to its right.
#[derive(Debug)]
struct Ring {
    cx: f64,
    cy: f64,
    outer: f64,
    inner: f64,
}

impl Ring {
    fn new(options: &Options) -> Ring {
        let outer = ((options.height.min(options.width / 2.0)) / 2.0 - 12.0).max(4.0);
        Ring {
            cx: 12.0 + outer,
            cy: options.height / 2.0,
            outer,
            inner: outer * 0.55,
        }
    }

    fn point(&self, radius: f64, fraction: f64) -> String {
        // Clockwise from twelve o'clock, in SVG's downward y.
        let angle = fraction * std::f64::consts::TAU - std::f64::consts::FRAC_PI_2;
        format!(
            "{} {}",
            px(self.cx + radius * angle.cos()),
            px(self.cy + radius * angle.sin())
        )
    }

    /// The ring segment between two fractions of the whole.
    fn slice(&self, start: f64, end: f64) -> String {
        let large = u8::from(end - start > 0.5);
        format!(
            "M {} A {} {} 0 {large} 1 {} L {} A {} {} 0 {large} 0 {} Z",
            self.point(self.outer, start),
            px(self.outer),
            px(self.outer),
            self.point(self.outer, end),
            self.point(self.inner, end),
            px(self.inner),
            px(self.inner),
            self.point(self.inner, start)
        )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::report::test_support::{assert_well_formed, elements};

    fn series(values: &[(&str, f64)]) -> Vec<(String, f64)> {
        values
            .iter()
            .map(|(key, value)| (key.to_string(), *value))
            .collect()
    }

    fn float(element: &BTreeMap<String, String>, name: &str) -> f64 {
        element[name]
            .parse()
            .unwrap_or_else(|_| panic!("{name} is a number in {element:?}"))
    }

    #[test]
    fn bars_are_one_per_category_with_heights_proportional_to_values() {
        let data = series(&[
            ("城关镇", 1234.0),
            ("王村镇", 987.0),
            ("河东街道", 0.0),
            ("南山", 500.0),
        ]);
        let svg = bar(&data, &Options::new("各乡镇隐患数"));
        assert_well_formed(&svg);
        assert!(svg.starts_with("<svg "));
        assert!(svg.contains("role=\"img\"") && svg.contains("aria-label=\"各乡镇隐患数\""));
        assert!(svg.contains("data-chart=\"bar\"") && svg.contains("viewBox=\"0 0 640 320\""));
        let bars = elements(&svg, "<rect class=\"bar\"");
        assert_eq!(bars.len(), 4);
        let keys: Vec<&str> = bars.iter().map(|bar| bar["data-key"].as_str()).collect();
        assert_eq!(keys, ["城关镇", "王村镇", "河东街道", "南山"]);
        let values: Vec<f64> = bars.iter().map(|bar| float(bar, "data-value")).collect();
        assert_eq!(values, [1234.0, 987.0, 0.0, 500.0]);
        assert_eq!(bars[2]["height"], "0", "a zero bar stays, with no height");
        let per_unit = float(&bars[0], "height") / 1234.0;
        assert!(per_unit > 0.0);
        for (bar, value) in bars.iter().zip(values) {
            assert!(
                (float(bar, "height") - value * per_unit).abs() < 0.02,
                "{bar:?}"
            );
        }
        // Bars stand on the same baseline.
        let bottoms: Vec<f64> = bars
            .iter()
            .map(|bar| float(bar, "y") + float(bar, "height"))
            .collect();
        assert!(
            bottoms
                .iter()
                .all(|bottom| (bottom - bottoms[0]).abs() < 0.02)
        );
        assert_eq!(svg.matches("<title>").count(), 4);
        assert!(svg.contains("<title>城关镇：1234</title>"));
    }

    #[test]
    fn axis_ticks_are_nice_numbers() {
        let axis = |values: &[f64], percent| {
            let axis = Axis::for_values(values, percent, true).expect("an axis");
            axis.ticks()
                .map(|tick| axis.label(tick))
                .collect::<Vec<_>>()
        };
        assert_eq!(axis(&[1234.0, 987.0], false), ["0", "500", "1000", "1500"]);
        assert_eq!(axis(&[7.0], false), ["0", "2", "4", "6", "8"]);
        assert_eq!(axis(&[3.0], false), ["0", "1", "2", "3"]);
        assert_eq!(axis(&[0.0], false), ["0", "1"]);
        assert_eq!(
            axis(&[2.5], false),
            ["0.0", "0.5", "1.0", "1.5", "2.0", "2.5"]
        );
        assert_eq!(
            axis(&[0.875], true),
            ["0%", "20%", "40%", "60%", "80%", "100%"]
        );
        assert_eq!(axis(&[0.03], true), ["0%", "1%", "2%", "3%"]);
        assert_eq!(axis(&[0.012], true), ["0.0%", "0.5%", "1.0%", "1.5%"]);
        assert_eq!(axis(&[-40.0, 90.0], false), ["-50", "0", "50", "100"]);
        assert!(Axis::for_values(&[f64::NAN], false, true).is_none());
        assert!(Axis::for_values(&[f64::MAX, -f64::MAX], false, true).is_none());
    }

    #[test]
    fn undefined_and_negative_bars_are_drawn_as_documented() {
        let data = series(&[("甲", 10.0), ("乙", f64::NAN), ("丙", -5.0)]);
        let svg = bar(&data, &Options::new("变化"));
        assert_well_formed(&svg);
        let bars = elements(&svg, "<rect class=\"bar\"");
        assert_eq!(bars.len(), 3);
        assert_eq!(bars[1]["data-value"], "");
        assert_eq!(bars[1]["height"], "0");
        assert!(svg.contains("<title>乙：无数据</title>"));
        assert_eq!(bars[2]["data-value"], "-5");
        // The negative bar hangs from the zero line that the positive one stands on.
        let zero = float(&bars[0], "y") + float(&bars[0], "height");
        assert!((float(&bars[2], "y") - zero).abs() < 0.02);
        let ratio = float(&bars[2], "height") / float(&bars[0], "height");
        assert!((ratio - 0.5).abs() < 0.01);
    }

    #[test]
    fn no_data_gives_an_empty_chart_not_a_panic() {
        let options = Options::new("空");
        for (svg, kind) in [
            (bar(&[], &options), "bar"),
            (bar(&series(&[("甲", f64::NAN)]), &options), "bar"),
            (pie(&[], &options), "pie"),
            (
                pie(
                    &series(&[("甲", 0.0), ("乙", -1.0), ("丙", f64::NAN)]),
                    &options,
                ),
                "pie",
            ),
            (line(&[], &options), "line"),
            (lines(&["1月".to_string()], &[], &options), "line"),
            (
                stacked_bar(&[], &[Series::new("甲", vec![])], &options),
                "stacked-bar",
            ),
        ] {
            assert_well_formed(&svg);
            assert!(svg.contains(&format!("data-chart=\"{kind}\"")), "{svg}");
            assert!(svg.contains(">无数据</text>"), "{svg}");
            assert!(!svg.contains("class=\"bar") && !svg.contains("class=\"slice"));
        }
        // A tiny or degenerate viewBox still draws.
        let svg = bar(
            &series(&[("甲", 1.0)]),
            &Options::new("小").size(10.0, 10.0),
        );
        assert_well_formed(&svg);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    /// The angle, in degrees clockwise from twelve o'clock, of a point on the ring.
    fn angle(ring: &Ring, x: f64, y: f64) -> f64 {
        let degrees = (y - ring.cy).atan2(x - ring.cx).to_degrees() + 90.0;
        degrees.rem_euclid(360.0)
    }

    #[test]
    fn pie_slices_cover_the_circle_in_proportion() {
        let options = Options::new("隐患类别");
        let data = series(&[
            ("用电", 50.0),
            ("消防", 30.0),
            ("无", 0.0),
            ("坏", f64::NAN),
            ("设备", 20.0),
            ("负", -3.0),
        ]);
        let svg = pie(&data, &options);
        assert_well_formed(&svg);
        assert!(svg.contains("data-chart=\"pie\""));
        let slices = elements(&svg, "<path class=\"slice");
        assert_eq!(
            slices.len(),
            3,
            "zero, undefined and negative slices are left out"
        );
        let ring = Ring::new(&options);
        let mut total = 0.0;
        for slice in &slices {
            let d: Vec<f64> = slice["d"]
                .split(' ')
                .filter_map(|token| token.parse().ok())
                .collect();
            // M x y A r r 0 large 1 x y L x y A r r 0 large 0 x y Z
            let (start, end, large) = (angle(&ring, d[0], d[1]), angle(&ring, d[7], d[8]), d[5]);
            let mut sweep = (end - start).rem_euclid(360.0);
            if sweep < 1e-9 {
                sweep = 360.0;
            }
            assert_eq!(large == 1.0, sweep > 180.0, "large-arc flag of {slice:?}");
            let share = float(slice, "data-value") / 100.0;
            assert!(
                (sweep - share * 360.0).abs() < 0.05,
                "{sweep} for {slice:?}"
            );
            total += sweep;
        }
        assert!((total - 360.0).abs() < 1e-6, "slices add up to {total}");
        let values: f64 = slices.iter().map(|slice| float(slice, "data-value")).sum();
        assert_eq!(values, 100.0);
        assert!(svg.contains("<title>用电：50（50.0%）</title>"));

        let big = pie(&series(&[("甲", 3.0), ("乙", 1.0)]), &options);
        let flags: Vec<&str> = elements(&big, "<path class=\"slice")
            .iter()
            .map(|slice| slice["d"].split(' ').nth(7).unwrap_or_default().to_string())
            .map(|flag| if flag == "1" { "large" } else { "small" })
            .collect();
        assert_eq!(flags, ["large", "small"]);
    }

    #[test]
    fn a_slice_that_is_the_whole_is_a_circle() {
        let svg = pie(&series(&[("甲", 0.0), ("乙", 7.0)]), &Options::new("全部"));
        assert_well_formed(&svg);
        assert!(elements(&svg, "<path class=\"slice").is_empty());
        let circles = elements(&svg, "<circle class=\"slice");
        assert_eq!(circles.len(), 1);
        assert_eq!(circles[0]["data-key"], "乙");
        assert_eq!(circles[0]["data-value"], "7");
        assert!(float(&circles[0], "r") > 0.0 && float(&circles[0], "stroke-width") > 0.0);
    }

    #[test]
    fn a_line_has_a_point_per_month_and_breaks_where_a_value_is_missing() {
        let months: Vec<(String, f64)> = (1..=12)
            .map(|month| (format!("2024-{month:02}"), f64::from(month) / 20.0))
            .collect();
        let svg = line(&months, &Options::new("整改率").percent());
        assert_well_formed(&svg);
        assert!(svg.contains("data-chart=\"line\""));
        let polylines = elements(&svg, "<polyline class=\"series");
        assert_eq!(polylines.len(), 1);
        assert_eq!(polylines[0]["points"].split(' ').count(), 12);
        let points = elements(&svg, "<circle class=\"point");
        assert_eq!(points.len(), 12);
        assert_eq!(points[0]["data-key"], "2024-01");
        assert_eq!(points[0]["data-value"], "0.05");
        assert!(svg.contains("<title>2024-12：60.0%</title>"));
        // Later months are higher, so further up.
        assert!(float(&points[11], "cy") < float(&points[0], "cy"));

        let mut gappy = months.clone();
        gappy[4].1 = f64::NAN;
        let svg = line(&gappy, &Options::new("整改率").percent());
        let runs: Vec<usize> = elements(&svg, "<polyline class=\"series")
            .iter()
            .map(|polyline| polyline["points"].split(' ').count())
            .collect();
        assert_eq!(runs, [4, 7]);
        assert_eq!(elements(&svg, "<circle class=\"point").len(), 11);
    }

    #[test]
    fn several_lines_and_stacked_bars_name_their_series() {
        let months = vec!["1月".to_string(), "2月".to_string(), "3月".to_string()];
        let data = [
            Series::new("按时", vec![10.0, 12.0, 0.0]),
            Series::new("逾期", vec![2.0, f64::NAN, 5.0]),
            Series::new("未报", vec![1.0, 0.0]),
        ];
        let svg = lines(&months, &data, &Options::new("自查"));
        assert_well_formed(&svg);
        assert_eq!(elements(&svg, "<circle class=\"point").len(), 3 + 2 + 2);
        assert_eq!(elements(&svg, "<rect class=\"swatch").len(), 3);
        assert!(svg.contains("data-series=\"逾期\""));

        let svg = stacked_bar(&months, &data, &Options::new("自查"));
        assert_well_formed(&svg);
        assert!(svg.contains("data-chart=\"stacked-bar\""));
        let bars = elements(&svg, "<rect class=\"bar");
        assert_eq!(
            bars.len(),
            9,
            "every series in every month, empty ones included"
        );
        // Each month's parts are stacked without gaps: heights add up to the total's height.
        let per_unit =
            (float(&bars[0], "height") + float(&bars[1], "height") + float(&bars[2], "height"))
                / 13.0;
        for month in 0..3 {
            let parts = &bars[month * 3..month * 3 + 3];
            let values: f64 = parts
                .iter()
                .map(|bar| part(bar["data-value"].parse().unwrap_or(f64::NAN)))
                .sum();
            let height: f64 = parts.iter().map(|bar| float(bar, "height")).sum();
            assert!((height - values * per_unit).abs() < 0.05, "month {month}");
            assert!(
                (float(&parts[0], "y") - float(&parts[1], "y") - float(&parts[1], "height")).abs()
                    < 0.02
            );
        }
        assert_eq!(
            bars[4]["data-value"], "",
            "the missing value of 逾期 in 2月"
        );
        assert_eq!(bars[8]["data-value"], "", "未报 has no value for 3月");
    }

    #[test]
    fn labels_are_escaped_and_there_are_no_style_attributes() {
        let nasty = "<b>&\"x\"</b>";
        let options = Options::new(nasty);
        let data = series(&[(nasty, 1.0), ("乙", 2.0)]);
        let many: Vec<(String, f64)> = (0..60)
            .map(|index| (format!("{nasty}{index}"), 1.0))
            .collect();
        for svg in [
            bar(&data, &options),
            bar(&many, &options),
            pie(&data, &options),
            line(&data, &options),
            stacked_bar(
                &[nasty.to_string()],
                &[Series::new(nasty, vec![1.0])],
                &options,
            ),
        ] {
            assert_well_formed(&svg);
            assert!(!svg.contains("<b>") && !svg.contains("\"x\""), "{svg}");
            assert!(svg.contains("&lt;b&gt;&amp;&quot;x&quot;&lt;/b&gt;"));
            assert!(!svg.contains("style="), "CSP forbids inline styles: {svg}");
            assert!(!svg.contains("<script"));
        }
        // With sixty categories the labels turn and thin out, but every bar is there.
        let svg = bar(&many, &options);
        assert_eq!(elements(&svg, "<rect class=\"bar\"").len(), 60);
        assert!(svg.contains("rotate(-45"));
        assert!(elements(&svg, "<text class=\"category\"").len() < 60);
    }

    #[test]
    fn a_state_keeps_its_colour_and_its_name_when_another_state_is_zero() {
        let colours = [STATE_LATE, STATE_SOON, STATE_OPEN, STATE_DONE];
        let options = Options::donut("隐患整改状态").colours(&colours);
        let data = series(&[
            ("已逾期", 0.0),
            ("7 日内到期", 0.0),
            ("整改中", 3.0),
            ("已整改", 1.0),
        ]);
        let svg = pie(&data, &options);
        let slices = elements(&svg, "<path class=\"slice");
        let fills: Vec<(&str, &str)> = slices
            .iter()
            .map(|slice| (slice["data-key"].as_str(), slice["fill"].as_str()))
            .collect();
        assert_eq!(fills, [("整改中", STATE_OPEN), ("已整改", STATE_DONE)]);
        // The legend names each drawn state beside its swatch, so colour is not the only sign.
        let swatches: Vec<String> = elements(&svg, "<rect class=\"swatch")
            .iter()
            .map(|swatch| swatch["fill"].clone())
            .collect();
        assert_eq!(swatches, [STATE_OPEN, STATE_DONE]);
        assert!(
            svg.contains(">整改中 3（75.0%）</text>") && svg.contains(">已整改 1（25.0%）</text>")
        );

        let late = pie(&series(&[("已逾期", 2.0), ("整改中", 0.0)]), &options);
        assert_eq!(
            elements(&late, "<circle class=\"slice")[0]["stroke"],
            STATE_LATE
        );

        let bars = stacked_bar(
            &["1月".to_string()],
            &[
                Series::new("按时", vec![1.0]),
                Series::new("逾期", vec![2.0]),
                Series::new("未报", vec![3.0]),
                Series::new("其他", vec![4.0]),
            ],
            &Options::new("上报").colours(&[STATE_DONE, STATE_LATE, STATE_MISSING]),
        );
        let fills: Vec<String> = elements(&bars, "<rect class=\"bar")
            .iter()
            .map(|bar| bar["fill"].clone())
            .collect();
        assert_eq!(fills, [STATE_DONE, STATE_LATE, STATE_MISSING, PALETTE[3]]);
    }
}
