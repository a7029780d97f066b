//! citebot's integration tests: the real bot against a real local Synapse
//! (one per test binary, shared by all tests), with real matrix-sdk clients
//! as the humans.
#![recursion_limit = "256"]

mod harness;

mod answering;
mod commands;
mod joining;
mod limits;
mod restart;
