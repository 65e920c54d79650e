//! instagram adapter (being written).
