//! citebot's integration tests: one test binary (so the heavy dependencies link
//! once), one module per area.

mod cli;
mod eval;
