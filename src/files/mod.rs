//! The file system, kept in bounds. In: paths and names from outside (a catalog, a cast folder,
//! an identity's name). Out: files written whole or not at all ([`atomic`]), names made into one
//! safe path component ([`names`]), and folder walks that do not follow links out or run away
//! ([`walk`]).

pub mod atomic;
pub mod names;
pub mod walk;
