//! The live table on a terminal: one indicatif row per instance, rewritten
//! in place as its state changes, a spinner on rows with work under way,
//! and the summary below when the play ends.
//!
//! indicatif draws at most a screenful. When the rows do not fit the
//! terminal, the live view is compact: the header, the rows with work under
//! way (and failures), and a line of counts; finished rows leave it. When the
//! play ends the live rows are cleared and the final table is printed in
//! full as plain lines, so the last picture always shows every row and the
//! summary, scrollback included.
//!
//! Spinners are ticked by the render thread (`Renderer::tick`), not by
//! indicatif's steady tick, which would start one thread per row. One
//! renderer draws one play.

use std::io::{self, Write};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Renderer;
use super::table::{GAP, Table, summary_lines};
use crate::events::{Event, Kind, State};

pub struct TtyRenderer {
    multi: MultiProgress,
    table: Table,
    /// Kept alive: a dropped bar leaves the live area.
    header: Option<ProgressBar>,
    /// A change may not be on screen yet: indicatif rate-limits drawing,
    /// so the last update before a quiet spell is drawn by the next tick.
    dirty: bool,
    bars: Vec<ProgressBar>,
    idle: ProgressStyle,
    busy: ProgressStyle,
    /// When false (`NO_COLOR`, ...), escape codes are stripped from every
    /// line before indicatif sees it.
    color: bool,
    /// Where the final table goes (the terminal indicatif draws on).
    out: Box<dyn Write + Send>,
    summary: Vec<String>,
    /// The terminal's height, when known: decides the compact view.
    height: Option<usize>,
    /// Some in the compact view: which rows are on screen, and the counts line.
    compact: Option<Compact>,
}

struct Compact {
    shown: Vec<bool>,
    counts: ProgressBar,
}

impl TtyRenderer {
    /// Draws live on `target` and the final table on `out`, normally
    /// `ProgressDrawTarget::stdout()` and standard output.
    pub fn new(target: ProgressDrawTarget, out: Box<dyn Write + Send>, color: bool) -> Self {
        // `wide_msg` cuts the status at the terminal's edge: a wrapped line
        // would break the in-place redraw. The spinner sits in the gap
        // before STATUS, so the words stay in their column busy or not.
        let idle = ProgressStyle::with_template("{prefix}  {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let busy = ProgressStyle::with_template("{prefix}{spinner} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ");
        Self {
            multi: MultiProgress::with_draw_target(target),
            table: Table::default(),
            header: None,
            dirty: false,
            bars: Vec::new(),
            idle,
            busy,
            color,
            out,
            summary: Vec::new(),
            height: None,
            compact: None,
        }
    }

    /// The terminal has `rows` lines: a play with more rows than fit is
    /// shown compact.
    pub fn with_height(mut self, rows: usize) -> Self {
        self.height = Some(rows);
        self
    }

    fn text(&self, s: String) -> String {
        if self.color {
            s
        } else {
            anstream::adapter::strip_str(&s).to_string()
        }
    }

    /// The row's columns before STATUS, without the gap the styles add.
    fn prefix(&self, i: usize) -> String {
        let prefix = self.table.prefix(i);
        let trimmed = prefix.strip_suffix(GAP).unwrap_or(&prefix).to_owned();
        self.text(trimmed)
    }

    /// A fixed line (the header), without the status gap of the rows.
    fn line_bar(&self, text: String) -> ProgressBar {
        let style = ProgressStyle::with_template("{wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bar = self.multi.add(ProgressBar::new_spinner().with_style(style));
        bar.set_message(self.text(text));
        bar
    }

    fn redraw(&mut self, i: usize) {
        let kind = self.table.rows[i].state.kind();
        if let Some(compact) = &mut self.compact {
            let want = kind == Kind::InProgress
                || matches!(self.table.rows[i].state, State::Failed { .. });
            if want != compact.shown[i] {
                if want {
                    // Keep row order: after the header and the shown rows above.
                    let at = 1 + compact.shown[..i].iter().filter(|&&s| s).count();
                    self.multi.insert(at, self.bars[i].clone());
                } else {
                    self.multi.remove(&self.bars[i]);
                }
                compact.shown[i] = want;
            }
        }
        if let Some(compact) = &self.compact {
            compact
                .counts
                .set_message(self.text(counts_line(&self.table)));
        }
        let Some(bar) = self.bars.get(i) else {
            return;
        };
        // Rows are never `finish`ed while the play runs: a restart goes
        // from `stopped` back to `starting` on the same row.
        bar.set_prefix(self.prefix(i));
        bar.set_style(if kind == Kind::InProgress {
            self.busy.clone()
        } else {
            self.idle.clone()
        });
        bar.set_message(self.text(self.table.status(i)));
    }
}

/// The compact view's last line: where the play stands.
fn counts_line(table: &Table) -> String {
    let (mut done, mut busy, mut waiting, mut failed) = (0, 0, 0, 0);
    for row in &table.rows {
        match (&row.state, row.state.kind()) {
            (State::Waiting, _) => waiting += 1,
            (_, Kind::InProgress) => busy += 1,
            (_, Kind::Failure) => failed += 1,
            _ => done += 1,
        }
    }
    let mut line = format!(
        "  {done}/{} done, {busy} in progress, {waiting} waiting",
        table.rows.len()
    );
    if failed > 0 {
        line.push_str(&format!(", {failed} failed or not attempted"));
    }
    line
}

impl Renderer for TtyRenderer {
    fn event(&mut self, _at: std::time::Duration, event: &Event) -> io::Result<()> {
        self.dirty = true;
        match event {
            Event::Play { rows, .. } => {
                self.table = Table::new(rows);
                self.header = Some(self.line_bar(self.table.header()));
                // Header, rows, summary: does it all fit?
                let compact = self.height.is_some_and(|h| rows.len() + 4 > h);
                self.bars = (0..rows.len())
                    .map(|i| {
                        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
                            .with_style(self.idle.clone());
                        bar.set_prefix(self.prefix(i));
                        bar.set_message(self.text(self.table.status(i)));
                        if compact { bar } else { self.multi.add(bar) }
                    })
                    .collect();
                self.compact = compact.then(|| Compact {
                    shown: vec![false; rows.len()],
                    counts: self.line_bar(counts_line(&self.table)),
                });
            }
            Event::Instance(e) => {
                if let Some(i) = self
                    .table
                    .update(&e.instance, e.container.as_deref(), &e.state)
                {
                    self.redraw(i);
                }
            }
            Event::Note { message } => self.multi.println(self.text(message.clone()))?,
            Event::Summary(summary) => self.summary = summary_lines(summary),
        }
        Ok(())
    }

    fn tick(&mut self) -> io::Result<()> {
        if std::mem::take(&mut self.dirty)
            && let Some(header) = &self.header
        {
            header.tick();
        }
        for (i, bar) in self.bars.iter().enumerate() {
            if self.table.rows[i].state.kind() == Kind::InProgress {
                bar.tick();
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        if self.bars.is_empty() && self.summary.is_empty() {
            return Ok(());
        }
        // Finished bars do not draw again when dropped; a hidden target
        // keeps anything else from drawing over the final table.
        for bar in &self.bars {
            if !bar.is_finished() {
                bar.abandon();
            }
        }
        self.multi.clear()?;
        self.multi.set_draw_target(ProgressDrawTarget::hidden());
        let mut lines = vec![self.table.header()];
        lines.extend((0..self.table.rows.len()).map(|i| self.table.line(i)));
        lines.extend(self.summary.iter().cloned());
        for line in lines {
            let line = self.text(line);
            writeln!(self.out, "{line}")?;
        }
        self.out.flush()
    }
}
