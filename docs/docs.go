// Package docs holds the documents that the server serves from its own
// binary, so that a deployed replica documents the API it runs whatever
// files are beside it.
package docs

import _ "embed"

// Migration is migration.md, the guide from each legacy REST call to its
// GraphQL replacement (rendered by the tests in parity/).
//
//go:embed migration.md
var Migration []byte
