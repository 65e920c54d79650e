//! justcall adapter (being written).
