//! telegram adapter (being written).
