//! What the tty and plain renderers share: the rows of a play, their
//! column layout (MaestroNG's `#  INSTANCE  SERVICE  SHIP  CONTAINER
//! STATUS`), the colours of outcomes and the summary lines.

use std::collections::HashMap;
use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use crate::events::{Kind, Row, State, Summary, human_duration};

/// The CONTAINER column is filled while the play runs (`tag:shortid`), so
/// its width cannot come from the data; this fits a short tag and an id.
const CONTAINER_WIDTH: usize = 20;
pub const GAP: &str = "  ";

/// Green = ok, cyan = nothing to do, red = failure (MaestroNG's SGR 32,
/// 36, 31); work in progress is not coloured.
pub fn style_of(kind: Kind) -> Style {
    match kind {
        Kind::InProgress => Style::new(),
        Kind::Ok => AnsiColor::Green.on_default(),
        Kind::NoOp => AnsiColor::Cyan.on_default(),
        Kind::Failure => AnsiColor::Red.on_default(),
    }
}

/// `text` wrapped in the escape codes of `style` (none for a plain style).
pub fn paint(style: Style, text: &str) -> String {
    format!("{}{text}{}", style.render(), style.render_reset())
}

/// One row as it stands now.
#[derive(Debug, Clone)]
pub struct RowState {
    pub row: Row,
    pub container: Option<String>,
    pub state: State,
}

/// The rows of the current play and the widths of their columns.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub rows: Vec<RowState>,
    index: HashMap<String, usize>,
    widths: [usize; 4],
}

impl Table {
    pub fn new(rows: &[Row]) -> Self {
        let width = |header: &str, f: &dyn Fn(&Row) -> usize| {
            rows.iter().map(f).max().unwrap_or(0).max(header.len())
        };
        let max_number = rows.iter().map(|r| r.number).max().unwrap_or(0);
        let widths = [
            max_number.to_string().len().max(3),
            width("INSTANCE", &|r| r.instance.chars().count()),
            width("SERVICE", &|r| r.service.chars().count()),
            width("SHIP", &|r| r.ship.chars().count()),
        ];
        Self {
            rows: rows
                .iter()
                .map(|row| RowState {
                    row: row.clone(),
                    container: None,
                    state: State::Waiting,
                })
                .collect(),
            index: rows
                .iter()
                .enumerate()
                .map(|(i, r)| (r.instance.clone(), i))
                .collect(),
            widths,
        }
    }

    /// Records a state change; returns the row's position, or `None` for
    /// an instance that is not in the play (ignored by the renderers).
    pub fn update(
        &mut self,
        instance: &str,
        container: Option<&str>,
        state: &State,
    ) -> Option<usize> {
        let &i = self.index.get(instance)?;
        let row = &mut self.rows[i];
        if let Some(c) = container {
            row.container = Some(c.to_owned());
        }
        row.state = state.clone();
        Some(i)
    }

    /// The current state of a row, if the instance is in the play.
    pub fn state_of(&self, instance: &str) -> Option<&State> {
        self.index.get(instance).map(|&i| &self.rows[i].state)
    }

    pub fn header(&self) -> String {
        let [n, inst, svc, ship] = self.widths;
        format!(
            "{:>n$} {GAP}{:<inst$}{GAP}{:<svc$}{GAP}{:<ship$}{GAP}{:<CONTAINER_WIDTH$}{GAP}STATUS",
            "#", "INSTANCE", "SERVICE", "SHIP", "CONTAINER"
        )
    }

    /// The columns before STATUS, padded; the instance is bold and the
    /// container takes the colour of the row's outcome.
    pub fn prefix(&self, i: usize) -> String {
        let [n, inst, svc, ship] = self.widths;
        let r = &self.rows[i];
        let bold = Style::new().bold();
        let container = r.container.as_deref().unwrap_or("-");
        let container_style = if r.container.is_some() {
            style_of(r.state.kind())
        } else {
            Style::new()
        };
        // Pad outside the escape codes so the codes do not count as width.
        let pad = |text: &str, width: usize| " ".repeat(width.saturating_sub(text.chars().count()));
        let mut out = String::new();
        let _ = write!(
            out,
            "{:>n$}.{GAP}{}{}{GAP}{:<svc$}{GAP}{:<ship$}{GAP}{}{}{GAP}",
            r.row.number,
            paint(bold, &r.row.instance),
            pad(&r.row.instance, inst),
            r.row.service,
            r.row.ship,
            paint(container_style, container),
            pad(container, CONTAINER_WIDTH),
        );
        out
    }

    /// The STATUS cell, coloured by outcome.
    pub fn status(&self, i: usize) -> String {
        let state = &self.rows[i].state;
        paint(style_of(state.kind()), &state.to_string())
    }

    /// The whole row, as a plain line shows it.
    pub fn line(&self, i: usize) -> String {
        self.prefix(i) + &self.status(i)
    }
}

/// `2.3s` under a minute, else MaestroNG's `3m12s`.
pub fn elapsed_words(summary: &Summary) -> String {
    let secs = summary.elapsed.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        human_duration(summary.elapsed.as_secs())
    }
}

/// The closing lines: counts and time, then what failed and why, then what
/// was not attempted. Coloured green when all went well, red otherwise.
pub fn summary_lines(summary: &Summary) -> Vec<String> {
    let mut counts = vec![format!("{} done", summary.done)];
    for (n, word) in [
        (summary.skipped, "skipped"),
        (summary.failed, "failed"),
        (summary.aborted, "not attempted"),
    ] {
        if n > 0 {
            counts.push(format!("{n} {word}"));
        }
    }
    let how = if summary.interrupted {
        "interrupted after"
    } else {
        "in"
    };
    let style = if summary.exit_code() == 0 {
        style_of(Kind::Ok)
    } else {
        style_of(Kind::Failure)
    };
    let mut lines = vec![paint(
        style,
        &format!(
            "{}: {} {how} {}",
            summary.command,
            counts.join(", "),
            elapsed_words(summary)
        ),
    )];
    for f in &summary.failures {
        lines.push(format!("  {}: failed: {}", f.id, f.message));
    }
    if !summary.not_attempted.is_empty() {
        lines.push(format!(
            "  not attempted: {}",
            summary.not_attempted.join(", ")
        ));
    }
    lines
}
