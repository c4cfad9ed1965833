//! The live table on a terminal: one indicatif row per instance, rewritten
//! in place as its state changes, a spinner on rows with work under way,
//! and the summary below when the play ends.
//!
//! indicatif draws at most a screenful: rows past the terminal's height
//! are not shown while the play runs. So when the play ends the live rows
//! are cleared and the final table is printed in full as plain lines:
//! the last picture always shows every row and the summary, scrollback
//! included.
//!
//! Spinners are ticked by the render thread (`Renderer::tick`), not by
//! indicatif's steady tick, which would start one thread per row.

use std::io::{self, Write};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Renderer;
use super::table::{GAP, Table, summary_lines};
use crate::events::{Event, Kind};

pub struct TtyRenderer {
    multi: MultiProgress,
    table: Table,
    bars: Vec<ProgressBar>,
    idle: ProgressStyle,
    busy: ProgressStyle,
    /// When false (`NO_COLOR`, ...), escape codes are stripped from every
    /// line before indicatif sees it.
    color: bool,
    /// Where the final table goes (the terminal indicatif draws on).
    out: Box<dyn Write + Send>,
    summary: Vec<String>,
}

impl TtyRenderer {
    /// Draws live on `target` and the final table on `out`, normally
    /// `ProgressDrawTarget::stdout()` and standard output.
    pub fn new(target: ProgressDrawTarget, out: Box<dyn Write + Send>, color: bool) -> Self {
        // `wide_msg` cuts the status at the terminal's edge: a wrapped line
        // would break the in-place redraw. The spinner sits in the gap before STATUS, so the status words
        // stay in their column whether a row is busy or not.
        let idle = ProgressStyle::with_template("{prefix}  {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let busy = ProgressStyle::with_template("{prefix}{spinner} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ");
        Self {
            multi: MultiProgress::with_draw_target(target),
            table: Table::default(),
            bars: Vec::new(),
            idle,
            busy,
            color,
            out,
            summary: Vec::new(),
        }
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
        bar.finish_with_message(self.text(text));
        bar
    }

    fn redraw(&self, i: usize) {
        let Some(bar) = self.bars.get(i) else {
            return;
        };
        let kind = self.table.rows[i].state.kind();
        bar.set_prefix(self.prefix(i));
        let status = self.text(self.table.status(i));
        if kind == Kind::InProgress {
            bar.set_style(self.busy.clone());
            bar.set_message(status);
        } else {
            bar.set_style(self.idle.clone());
            bar.finish_with_message(status);
        }
    }
}

impl Renderer for TtyRenderer {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::Play { rows, .. } => {
                self.table = Table::new(rows);
                self.line_bar(self.table.header());
                self.bars = (0..rows.len())
                    .map(|i| {
                        let bar = self
                            .multi
                            .add(ProgressBar::new_spinner().with_style(self.idle.clone()));
                        bar.set_prefix(self.prefix(i));
                        bar.set_message(self.text(self.table.status(i)));
                        bar
                    })
                    .collect();
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
        for (i, bar) in self.bars.iter().enumerate() {
            if self.table.rows[i].state.kind() == Kind::InProgress && !bar.is_finished() {
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
