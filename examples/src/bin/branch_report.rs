//! Placeholder; replaced by the branch report below.
fn main() {}
