package graph

// SetPlainWriters turns the plain writers and singleRoot_Query on or off,
// for the tests that compare what they write with what gqlgen's execution
// writes.
func SetPlainWriters(on bool) { plainWritersOff.Store(!on) }
