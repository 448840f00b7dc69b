package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// listSQL is one page of the articles that match a filter, newest first,
// as viewer $1 sees them, with the total on every row: page selects the
// ids of the page ($2 rows after $3), total counts every match. The total
// is LEFT JOINed to the page so that an empty page still answers with one
// row that carries it.
const listSQL = `
WITH page AS (%s)
SELECT total.n, a.slug, a.title, a.description,
	ARRAY (SELECT t.name FROM article_tags x JOIN tags t ON t.id = x.tag_id
	       WHERE x.article_id = a.id ORDER BY t.name COLLATE "C"),
	a.created_at, a.updated_at,
	EXISTS (SELECT 1 FROM favorites f WHERE f.user_id = $1 AND f.article_id = a.id),
	a.favorites_count, u.username, u.bio, u.image,
	EXISTS (SELECT 1 FROM follows fo WHERE fo.follower_id = $1 AND fo.followee_id = u.id)
FROM (%s) total
LEFT JOIN (page JOIN articles a ON a.id = page.id JOIN users u ON u.id = a.author_id) ON true
ORDER BY a.created_at DESC, a.id DESC`

// The lists the floor serves, each one statement: every article; those
// with the tag $4; the feed of viewer $1, written by the users they follow.
var (
	allSQL = fmt.Sprintf(listSQL,
		`SELECT id FROM articles ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`,
		`SELECT count(*) AS n FROM articles`)
	tagSQL = fmt.Sprintf(listSQL,
		`SELECT a.id FROM articles a
		 WHERE a.id IN (SELECT x.article_id FROM article_tags x JOIN tags t ON t.id = x.tag_id WHERE t.name = $4)
		 ORDER BY a.created_at DESC, a.id DESC LIMIT $2 OFFSET $3`,
		`SELECT count(*) AS n FROM article_tags x JOIN tags t ON t.id = x.tag_id WHERE t.name = $4`)
	feedSQL = fmt.Sprintf(listSQL,
		`SELECT a.id FROM articles a
		 WHERE a.author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1)
		 ORDER BY a.created_at DESC, a.id DESC LIMIT $2 OFFSET $3`,
		`SELECT count(*) AS n FROM articles a WHERE a.author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1)`)
)

// listArticles runs one of the statements of listSQL: allSQL and feedSQL
// take no argument, tagSQL the tag.
func listArticles(ctx context.Context, pool *pgxpool.Pool, sql string, viewer int64, limit, offset int, args ...any) (articleList, error) {
	rows, err := pool.Query(ctx, sql, append([]any{viewer, limit, offset}, args...)...)
	if err != nil {
		return articleList{}, fmt.Errorf("list articles: %w", err)
	}
	defer rows.Close()
	out := articleList{Articles: make([]listedArticle, 0, limit)}
	for rows.Next() {
		var (
			slug, title, description, username *string
			created, updated                   *time.Time
			count                              *int
			a                                  listedArticle
		)
		err := rows.Scan(&out.ArticlesCount, &slug, &title, &description, &a.TagList, &created, &updated,
			&a.Favorited, &count, &username, &a.Author.Bio, &a.Author.Image, &a.Author.Following)
		if err != nil {
			return articleList{}, fmt.Errorf("list articles: %w", err)
		}
		if slug == nil {
			continue // the row of an empty page: only the total
		}
		a.Slug, a.Title, a.Description, a.Author.Username = *slug, *title, *description, *username
		a.CreatedAt, a.UpdatedAt, a.FavoritesCount = timestamp(*created), timestamp(*updated), *count
		if a.TagList == nil {
			a.TagList = []string{}
		}
		out.Articles = append(out.Articles, a)
	}
	if err := rows.Err(); err != nil {
		return articleList{}, fmt.Errorf("list articles: %w", err)
	}
	return out, nil
}

// articleSQL is the article with the slug $2 as viewer $1 sees it.
const articleSQL = `
SELECT a.slug, a.title, a.description, a.body,
	ARRAY (SELECT t.name FROM article_tags x JOIN tags t ON t.id = x.tag_id
	       WHERE x.article_id = a.id ORDER BY t.name COLLATE "C"),
	a.created_at, a.updated_at,
	EXISTS (SELECT 1 FROM favorites f WHERE f.user_id = $1 AND f.article_id = a.id),
	a.favorites_count, u.username, u.bio, u.image,
	EXISTS (SELECT 1 FROM follows fo WHERE fo.follower_id = $1 AND fo.followee_id = u.id)
FROM articles a JOIN users u ON u.id = a.author_id
WHERE a.slug = $2`

// articleBySlug runs articleSQL; found is false when no article has the slug.
func articleBySlug(ctx context.Context, pool *pgxpool.Pool, viewer int64, slug string) (a article, found bool, err error) {
	var created, updated time.Time
	err = pool.QueryRow(ctx, articleSQL, viewer, slug).Scan(&a.Slug, &a.Title, &a.Description, &a.Body,
		&a.TagList, &created, &updated, &a.Favorited, &a.FavoritesCount,
		&a.Author.Username, &a.Author.Bio, &a.Author.Image, &a.Author.Following)
	if errors.Is(err, pgx.ErrNoRows) {
		return article{}, false, nil
	}
	if err != nil {
		return article{}, false, fmt.Errorf("select article: %w", err)
	}
	a.CreatedAt, a.UpdatedAt = timestamp(created), timestamp(updated)
	if a.TagList == nil {
		a.TagList = []string{}
	}
	return a, true, nil
}

// tagsSQL is every tag in use, most used first, ties in byte order, as one
// array.
const tagsSQL = `
SELECT COALESCE(array_agg(name ORDER BY n DESC, name COLLATE "C"), '{}')
FROM (SELECT t.name, count(*) AS n FROM tags t JOIN article_tags x ON x.tag_id = t.id GROUP BY t.id) used`

// tagsInUse runs tagsSQL.
func tagsInUse(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	var tags []string
	if err := pool.QueryRow(ctx, tagsSQL).Scan(&tags); err != nil {
		return nil, fmt.Errorf("select tags: %w", err)
	}
	if tags == nil {
		tags = []string{}
	}
	return tags, nil
}
