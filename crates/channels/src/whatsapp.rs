//! whatsapp adapter (being written).
