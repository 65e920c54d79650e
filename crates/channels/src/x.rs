//! x adapter (being written).
