//! messenger adapter (being written).
