//! Who a face is. In: the cast (photos of each actor, [`cast`]) and tracks' embedded faces.
//! Out: per track a cast member's name, or a stranger's group ([`matching`]); [`cluster`]
//! holds the ways faces are grouped into people.

pub mod cast;
pub mod cluster;
pub mod matching;
