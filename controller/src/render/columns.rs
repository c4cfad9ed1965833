//! The one column helper behind every table that is printed once (status,
//! ships): widths from the data, two spaces between columns, the last
//! column unpadded and no trailing spaces. Colour codes are added around
//! the padded text, so they never count as width. (The live play table in
//! `table.rs` has its own fixed layout: its rows change while it is shown.)

use anstyle::Style;

use super::table::paint;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A column: its header and how its cells line up.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub header: &'static str,
    pub align: Align,
}

impl Column {
    pub const fn left(header: &'static str) -> Self {
        Column {
            header,
            align: Align::Left,
        }
    }

    pub const fn right(header: &'static str) -> Self {
        Column {
            header,
            align: Align::Right,
        }
    }
}

/// A cell: its text and its colour (none by default).
#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub text: String,
    pub style: Style,
}

impl Cell {
    pub fn styled(text: impl Into<String>, style: Style) -> Self {
        Cell {
            text: text.into(),
            style,
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell {
            text,
            style: Style::new(),
        }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::from(text.to_string())
    }
}

/// The header line and one line per row, each ending in a newline. Rows
/// shorter than the header leave the missing cells empty.
pub fn render(columns: &[Column], rows: &[Vec<Cell>]) -> String {
    let width = |c: usize| {
        rows.iter()
            .filter_map(|r| r.get(c))
            .map(|cell| cell.text.chars().count())
            .chain([columns[c].header.chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..columns.len()).map(width).collect();
    let last = columns.len().saturating_sub(1);
    let line = |cells: &mut dyn Iterator<Item = (usize, &str, Style)>| {
        let parts: Vec<String> = cells
            .map(|(c, text, style)| {
                let fill = " ".repeat(widths[c].saturating_sub(text.chars().count()));
                let aligned = match columns[c].align {
                    Align::Right => format!("{fill}{text}"),
                    Align::Left if c == last => text.to_string(),
                    Align::Left => format!("{text}{fill}"),
                };
                if style == Style::new() {
                    aligned
                } else {
                    paint(style, &aligned)
                }
            })
            .collect();
        let mut l = parts.join("  ").trim_end().to_string();
        l.push('\n');
        l
    };
    let mut out = line(
        &mut columns
            .iter()
            .enumerate()
            .map(|(c, col)| (c, col.header, Style::new())),
    );
    let empty = Cell::default();
    for row in rows {
        out.push_str(&line(&mut (0..columns.len()).map(|c| {
            let cell = row.get(c).unwrap_or(&empty);
            (c, cell.text.as_str(), cell.style)
        })));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use anstyle::AnsiColor;

    #[test]
    fn widths_alignment_and_no_trailing_spaces() {
        let cols = [
            Column::right("#"),
            Column::left("NAME"),
            Column::left("NOTE"),
        ];
        let rows = vec![
            vec!["1.".into(), "a".into(), "".into()],
            vec!["10.".into(), "longer".into(), "x y".into()],
        ];
        assert_eq!(
            render(&cols, &rows),
            "  #  NAME    NOTE\n 1.  a\n10.  longer  x y\n"
        );
    }

    #[test]
    fn colour_codes_do_not_count_as_width() {
        let red = AnsiColor::Red.on_default();
        let cols = [Column::left("A"), Column::left("B")];
        let rows = vec![vec![Cell::styled("xx", red), "y".into()]];
        let out = render(&cols, &rows);
        assert_eq!(
            anstream::adapter::strip_str(&out).to_string(),
            "A   B\nxx  y\n"
        );
        assert!(out.contains(&paint(red, "xx")));
    }
}
