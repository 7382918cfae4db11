//! Harness for the end-to-end browser tests (filled in by the e2e work).
