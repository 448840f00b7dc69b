package resolvers_test

import "testing"

// benchCommentsQuery asks for the first 5 comments of each of 20 articles:
// the comment page loader fetches them for the whole page in one batch.
const benchCommentsQuery = `query ArticlesWithComments { articles(first: 20) { nodes {
	slug comments(first: 5) { totalCount nodes { body createdAt author { username following } } } } } }`

// BenchmarkCommentsLoader measures one execution of a query whose comment
// loader batches the comments of 20 articles (8 comments each), signed in;
// sql/op shows that the batch holds: the page and one batch of comments.
func BenchmarkCommentsLoader(b *testing.B) {
	bs := newBenchServer(b, 20, 8)
	bs.run(b, benchCommentsQuery, bs.token)
}
