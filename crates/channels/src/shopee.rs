//! shopee adapter (being written).
