//! What one agent's run may put in a report folder, counted as `du` counts it: every file takes
//! whole blocks on disk. The run's budget ([`RUN_REPORT_BUDGET`]) pays first for what every case
//! adds to the shared files (its `index.json` entry, its row of `index.html`, its id in
//! `wsspec-run.json`: at most [`INDEX_BYTES_PER_CASE`]) and for what the folder holds whatever the
//! cases ([`FIXED_REPORT_BYTES`]); the rest goes to the cases' own two files, its record
//! (`<agent>_case_<id>.json`) and its page (`.html`), as [`CaseFilesBudget`] shares it out.

/// The block a file system allocates files in (4 KiB, the usual one): a 100-byte case file takes
/// 4 KiB on disk, and 1,200 of them take 4.8 MB.
pub const BLOCK: u64 = 4096;

/// The most one agent's run puts in its report folder, on disk: 9 MiB (9,437,184 bytes, under
/// 10 MB), whatever the target sends, for up to [`max_cases`] cases selected.
pub const RUN_REPORT_BUDGET: u64 = 9 << 20;

/// What the folder takes whatever the cases: the directory itself, `wsspec.css`, the lock file, the
/// head of `index.html` (its counts by agent and by section) and of `wsspec-run.json` (128 KiB).
pub const FIXED_REPORT_BYTES: u64 = 128 << 10;

/// The most a case adds to the shared files, in bytes: its `index.json` entry (about 200 bytes), its
/// id in `wsspec-run.json`, and its row of `index.html`, whose one target-controlled text is the
/// reason shown on hover, cut to `html::TIP_CHARS` characters (escaped, at most 6 bytes each).
pub const INDEX_BYTES_PER_CASE: u64 = 1408;

/// The least a case's two files may take on disk: one block each.
pub const MIN_CASE_SHARE: u64 = 2 * BLOCK;

/// The most a case's two files may take on disk (192 KiB), however few cases a run selects.
pub const MAX_CASE_SHARE: u64 = 48 * BLOCK;

/// The bytes on disk of a file of `len` bytes: whole blocks.
pub fn on_disk(len: u64) -> u64 {
    len.div_ceil(BLOCK) * BLOCK
}

/// The most cases a run may select for [`RUN_REPORT_BUDGET`] to hold: each case needs at least
/// [`MIN_CASE_SHARE`] and [`INDEX_BYTES_PER_CASE`] (969; the built-in catalog has 603 server
/// cases). A run of more still gives every case [`MIN_CASE_SHARE`], and its folder grows past the
/// budget by that much per case.
pub const fn max_cases() -> usize {
    ((RUN_REPORT_BUDGET - FIXED_REPORT_BYTES) / (MIN_CASE_SHARE + INDEX_BYTES_PER_CASE)) as usize
}

/// What the case files of one agent's run may take on disk in all, for `selected` cases.
pub fn case_files_budget(selected: usize) -> u64 {
    RUN_REPORT_BUDGET.saturating_sub(FIXED_REPORT_BYTES).saturating_sub(selected as u64 * INDEX_BYTES_PER_CASE)
}

/// A run's account of its case files on disk. Each case, as it is recorded, reserves a fair part of
/// what is left (what is left divided by the cases still to come, rounded up to whole blocks as far
/// as every case to come keeps [`MIN_CASE_SHARE`], within [`MIN_CASE_SHARE`] and
/// [`MAX_CASE_SHARE`]) and gives back what it did not use, so small records (most cases) leave room
/// for big ones and the sum never passes [`case_files_budget`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFilesBudget {
    /// Bytes on disk not reserved yet.
    left: u64,
    /// Cases selected that have not reserved their share yet.
    cases_left: usize,
}

impl CaseFilesBudget {
    /// The account of a run of `selected` cases.
    pub fn new(selected: usize) -> Self {
        Self { left: case_files_budget(selected), cases_left: selected }
    }

    /// Reserves the next case's share, in bytes on disk (a multiple of [`BLOCK`]). A record that
    /// reached a bound already (a flood, a cut wire log) gets the same: it is the one a reader
    /// opens, and half a share (a block for its page, at the start of a whole-catalog run) is less
    /// than any page with a wire log takes.
    pub fn reserve(&mut self) -> u64 {
        let fair = self.left / self.cases_left.max(1) as u64;
        // Rounded up to whole blocks (a share of 3.4 blocks would waste the 0.4), as far as every
        // case still to come keeps at least the least share.
        let others = self.cases_left.saturating_sub(1) as u64 * MIN_CASE_SHARE;
        let most = self.left.saturating_sub(others) / BLOCK * BLOCK;
        let share = fair.div_ceil(BLOCK).saturating_mul(BLOCK).min(most).clamp(MIN_CASE_SHARE, MAX_CASE_SHARE);
        self.left = self.left.saturating_sub(share);
        self.cases_left = self.cases_left.saturating_sub(1);
        share
    }

    /// Settles a case's share: it reserved `reserved` and its files took `used` bytes on disk (0
    /// when they could not be written). What it did not use goes back to the cases still to come;
    /// what it took over its share (a record whose fixed parts alone are over) comes off theirs.
    pub fn settle(&mut self, reserved: u64, used: u64) {
        self.left = (self.left + reserved).saturating_sub(used);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_catalog_fits_the_budget_whatever_each_case_takes() {
        let selected = 603;
        assert!(selected <= max_cases(), "{}", max_cases());
        let mut budget = CaseFilesBudget::new(selected);
        let mut total = 0;
        for _ in 0..selected {
            // Every case takes its whole share (a target that fills every record).
            total += budget.reserve();
        }
        let folder = total + FIXED_REPORT_BYTES + selected as u64 * INDEX_BYTES_PER_CASE;
        assert!(folder <= RUN_REPORT_BUDGET, "{folder} bytes on disk");
        assert!(folder < 10_000_000);
    }

    #[test]
    fn small_records_leave_room_for_big_ones() {
        let mut budget = CaseFilesBudget::new(600);
        let first = budget.reserve();
        assert_eq!(first % BLOCK, 0);
        for _ in 0..300 {
            let share = budget.reserve();
            budget.settle(share, MIN_CASE_SHARE);
        }
        assert!(budget.reserve() > first, "the unused shares went back to the pool");
        assert_eq!(CaseFilesBudget::new(1).reserve(), MAX_CASE_SHARE);
        assert_eq!(CaseFilesBudget::new(100_000).reserve(), MIN_CASE_SHARE);
        assert_eq!(on_disk(0), 0);
        assert_eq!(on_disk(1), BLOCK);
        assert_eq!(on_disk(BLOCK + 1), 2 * BLOCK);
    }
}
