//! Helpers shared by the test targets.
#![allow(dead_code)]

pub mod scram;
