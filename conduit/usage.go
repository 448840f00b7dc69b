package conduit

import "time"

// UsageCount is how often one client called one operation of the legacy
// REST API within one hour, signed in or not: the evidence that tells when
// an operation has no callers left and can be retired. Replicas each add
// their own counts to the same row, so the stored counts are the sum over
// every replica.
type UsageCount struct {
	// Bucket is the start of the hour, in UTC.
	Bucket time.Time
	// Operation is the route's operationId, such as "getArticles".
	Operation string
	// Client is what the caller named itself in X-Client-Name, else the
	// family of its User-Agent ("curl", "Chrome"), or "(other)" once a
	// replica has seen as many distinct clients in the hour as it keeps.
	Client    string
	SignedIn  bool
	Calls     int64
	FirstSeen time.Time
	LastSeen  time.Time
}

// UsageBatch is one write of a replica's counts. Writer names the process
// and Seq counts its writes: a write that is sent again after an error
// carries the same Seq, and the store applies each (Writer, Seq) once, so
// a write that succeeded although its caller heard a timeout is not
// counted twice.
type UsageBatch struct {
	Writer string
	Seq    int64
	Counts []UsageCount
}
