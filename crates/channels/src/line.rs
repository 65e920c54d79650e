//! line adapter (being written).
