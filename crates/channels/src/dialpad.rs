//! dialpad adapter (being written).
