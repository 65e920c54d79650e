//! wechat adapter (being written).
