//! The live table on a terminal: one indicatif row per instance, rewritten
//! in place as its state changes, a spinner on rows with work under way,
//! and the summary below when the play ends.
//!
//! Spinners are ticked by the render thread (`Renderer::tick`), not by
//! indicatif's steady tick, which would start one thread per row.

use std::io;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Renderer;
use super::table::{Table, summary_lines};
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
}

impl TtyRenderer {
    /// Draws on `target`, normally `ProgressDrawTarget::stdout()`.
    pub fn new(target: ProgressDrawTarget, color: bool) -> Self {
        // `wide_msg` cuts the status at the terminal's edge: a wrapped line
        // would break the in-place redraw.
        let idle = ProgressStyle::with_template("{prefix}{wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let busy = ProgressStyle::with_template("{prefix}{wide_msg} {spinner}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ");
        Self {
            multi: MultiProgress::with_draw_target(target),
            table: Table::default(),
            bars: Vec::new(),
            idle,
            busy,
            color,
        }
    }

    fn text(&self, s: String) -> String {
        if self.color {
            s
        } else {
            anstream::adapter::strip_str(&s).to_string()
        }
    }

    fn line_bar(&self, text: String) -> ProgressBar {
        let bar = self
            .multi
            .add(ProgressBar::new_spinner().with_style(self.idle.clone()));
        bar.finish_with_message(self.text(text));
        bar
    }

    fn redraw(&self, i: usize) {
        let Some(bar) = self.bars.get(i) else {
            return;
        };
        let kind = self.table.rows[i].state.kind();
        bar.set_prefix(self.text(self.table.prefix(i)));
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
                        bar.set_prefix(self.text(self.table.prefix(i)));
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
            Event::Summary(summary) => {
                for line in summary_lines(summary) {
                    self.line_bar(line);
                }
            }
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
        // Rows left in progress (a play that ended abnormally) are frozen
        // as they are, so the last picture stays on screen.
        for bar in &self.bars {
            if !bar.is_finished() {
                bar.abandon();
            }
        }
        Ok(())
    }
}
