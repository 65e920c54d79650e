//! lazada adapter (being written).
