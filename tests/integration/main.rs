//! citebot's integration tests, one test binary (so the heavy dependencies link
//! once), one module per area: the CLI and answer quality in-process, and the real
//! bot against a real local Synapse (one per test binary, shared by all tests) with
//! real matrix-sdk clients as the humans.
#![recursion_limit = "256"]

mod harness;

mod answering;
mod cli;
mod collections;
mod commands;
mod encrypted;
mod eval;
mod faults;
mod feedback;
mod fuzz_corpus;
mod install;
mod joining;
mod layout;
mod limits;
mod metrics;
mod reload;
mod restart;
mod semantic;
mod sources;
