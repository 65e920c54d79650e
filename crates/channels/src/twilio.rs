//! twilio adapter (being written).
