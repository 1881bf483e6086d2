"""Events: a region's verified state changes (and watched whole-frame labels) kept with a snapshot
and an optional clip in the state dir, a timeline and a review queue that teaches (issue 19)."""
