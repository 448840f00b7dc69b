package graph

// SetPlainWriters turns the plain writers on or off, for the tests that
// compare what they write with what gqlgen's execution writes.
func SetPlainWriters(on bool) { plainWritersOff.Store(!on) }
