//! meta adapter (being written).
