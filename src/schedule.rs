//! Which task a Cron Trigger runs, by its expression (wrangler.toml's
//! `[triggers] crons`): the daily retention at 03:17, else the five-minute
//! sync and sweep.

/// The daily clean-up's expression, as written in wrangler.toml.
pub const RETENTION_CRON: &str = "17 3 * * *";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Delete what is older than the retention.
    Retention,
    /// A sync run per organization, and lost GitHub jobs queued again.
    SyncAndSweep,
}

/// An expression not named here runs the sync: a cron added to wrangler.toml
/// without a task of its own still keeps the board in step.
pub fn task(cron: &str) -> Task {
    match cron.trim() {
        RETENTION_CRON => Task::Retention,
        _ => Task::SyncAndSweep,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daily_cron_runs_retention_and_any_other_the_sync() {
        assert_eq!(task("17 3 * * *"), Task::Retention);
        assert_eq!(task(" 17 3 * * * "), Task::Retention);
        assert_eq!(task("*/5 * * * *"), Task::SyncAndSweep);
        assert_eq!(task("0 * * * *"), Task::SyncAndSweep);
    }

    #[test]
    fn wrangler_toml_schedules_both_tasks() {
        let toml = include_str!("../wrangler.toml");
        let crons = toml.lines().find(|l| l.trim_start().starts_with("crons")).expect("a crons line");
        assert!(crons.contains(&format!("\"{RETENTION_CRON}\"")), "{crons}");
        assert!(crons.split(',').any(|c| !c.contains(RETENTION_CRON)), "{crons}");
    }
}
